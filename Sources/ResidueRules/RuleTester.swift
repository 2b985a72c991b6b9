/// Runs every rule's examples (each must match) and counter-examples (none may match).
public struct RuleTestFailure: Sendable, CustomStringConvertible {
    public let ruleId: String
    public let sample: String
    public let expectedMatch: Bool

    public var description: String {
        let shown = sample.count > 80 ? String(sample.prefix(77)) + "..." : sample
        return "\(ruleId): \(expectedMatch ? "example did not match" : "counter-example matched"): \(shown.debugDescription)"
    }
}

public enum RuleTester {
    /// Checks examples with the rule's regex, secret group, entropy, allow and validate checks
    /// (not its keywords or paths; a keyword missing from an example is reported separately).
    public static func run(_ ruleSet: RuleSet) -> [RuleTestFailure] {
        let matcher = Matcher(ruleSet)
        var failures: [RuleTestFailure] = []
        for (index, compiled) in ruleSet.rules.enumerated() {
            let rule = compiled.rule
            for example in rule.examples ?? [] {
                var bytes = Array(example.utf8)
                let hits = bytes.withUnsafeMutableBytes { matcher.run(ruleAt: index, on: UnsafeRawBufferPointer($0)) }
                let lower = example.lowercased()
                let keywordPresent = rule.keywords.isEmpty || rule.keywords.contains { lower.contains($0.lowercased()) }
                if hits.isEmpty || !keywordPresent {
                    failures.append(RuleTestFailure(ruleId: rule.id, sample: example, expectedMatch: true))
                }
            }
            for counter in rule.counterExamples ?? [] {
                var bytes = Array(counter.utf8)
                let hits = bytes.withUnsafeMutableBytes { matcher.run(ruleAt: index, on: UnsafeRawBufferPointer($0)) }
                if !hits.isEmpty {
                    failures.append(RuleTestFailure(ruleId: rule.id, sample: counter, expectedMatch: false))
                }
            }
        }
        return failures
    }
}
