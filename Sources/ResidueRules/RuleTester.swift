/// Runs every rule's examples (each must match) and counter-examples (none may match).
public struct RuleTestFailure: Sendable, CustomStringConvertible {
    public let ruleId: String
    public let sample: String
    public let expectedMatch: Bool
    public var note: String? = nil

    public var description: String {
        let shown = sample.count > 80 ? String(sample.prefix(77)) + "..." : sample
        let what = note ?? (expectedMatch ? "example did not match" : "counter-example matched")
        return "\(ruleId): \(what): \(shown.debugDescription)"
    }
}

public enum RuleTester {
    static let limitNote = "the regex hit PCRE2's backtracking limit here (it backtracks catastrophically on this text; "
        + "in a scan that file would be reported as skipped): rewrite it with possessive quantifiers or atomic groups"

    /// Checks examples with the rule's regex, secret group, entropy, allow and validate checks
    /// (not its keywords or paths; a keyword missing from an example is reported separately).
    public static func run(_ ruleSet: RuleSet) -> [RuleTestFailure] {
        let matcher = Matcher(ruleSet)
        var failures: [RuleTestFailure] = []
        for (index, compiled) in ruleSet.rules.enumerated() {
            let rule = compiled.rule
            for example in rule.examples ?? [] {
                var bytes = Array(example.utf8)
                let limitHitsBefore = matcher.regexLimitHits
                let hits = bytes.withUnsafeMutableBytes { matcher.run(ruleAt: index, on: UnsafeRawBufferPointer($0)) }
                if matcher.regexLimitHits > limitHitsBefore {
                    failures.append(RuleTestFailure(ruleId: rule.id, sample: example, expectedMatch: true, note: limitNote))
                    continue
                }
                let lower = example.lowercased()
                let keywordPresent = rule.keywords.isEmpty || rule.keywords.contains { lower.contains($0.lowercased()) }
                if hits.isEmpty || !keywordPresent {
                    failures.append(RuleTestFailure(ruleId: rule.id, sample: example, expectedMatch: true))
                    continue
                }
                // The scan runs a regex only around keyword hits: the example must give the same
                // matches that way, alone and amid other text (a match must contain a keyword).
                // A rule without keywords searches whole buffers (often from `\A`): nothing to compare.
                if rule.keywords.isEmpty { continue }
                for padding in [0, 70_000] {
                    let filler = Array(repeating: UInt8(ascii: "x"), count: padding) + [0x0A]
                    var padded = padding == 0 ? Array(example.utf8) : filler + Array(example.utf8) + [0x0A] + filler
                    let shift = padding == 0 ? 0 : filler.count
                    let around = padded.withUnsafeMutableBytes { matcher.runAroundKeywords(ruleAt: index, on: UnsafeRawBufferPointer($0)) }
                    if around.map({ $0.secretRange.lowerBound - shift }) != hits.map(\.secretRange.lowerBound)
                        || around.map(\.secret) != hits.map(\.secret) {
                        failures.append(RuleTestFailure(ruleId: rule.id, sample: example, expectedMatch: true,
                                                        note: "not found the same way around its keywords"))
                        break
                    }
                }
            }
            for counter in rule.counterExamples ?? [] {
                var bytes = Array(counter.utf8)
                let limitHitsBefore = matcher.regexLimitHits
                let hits = bytes.withUnsafeMutableBytes { matcher.run(ruleAt: index, on: UnsafeRawBufferPointer($0)) }
                if matcher.regexLimitHits > limitHitsBefore {
                    // "No match" here only means PCRE2 gave up: the counter-example proves nothing.
                    failures.append(RuleTestFailure(ruleId: rule.id, sample: counter, expectedMatch: false, note: limitNote))
                } else if !hits.isEmpty {
                    failures.append(RuleTestFailure(ruleId: rule.id, sample: counter, expectedMatch: false))
                }
            }
        }
        return failures
    }
}
