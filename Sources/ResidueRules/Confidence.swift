/// How likely a finding is a live credential, as opposed to a made-up or test value. Findings
/// are never hidden for being low: test keys leak too, and a user decides (`--fail-on` works on
/// severity; reporters show confidence next to it).
public enum Confidence: String, Sendable, Codable, Comparable, CaseIterable {
    case low, medium, high

    var rank: Int { self == .low ? 0 : self == .medium ? 1 : 2 }
    public static func < (a: Confidence, b: Confidence) -> Bool { a.rank < b.rank }

    func lowered() -> Confidence { self == .high ? .medium : .low }
}

/// A confidence and the reason it differs from the rule's own, if it does.
public struct Assessment: Sendable, Equatable {
    public var confidence: Confidence
    public var reason: String?

    public init(confidence: Confidence, reason: String?) {
        self.confidence = confidence
        self.reason = reason
    }
}

public enum ConfidenceAssessor {
    /// Rates one match: the rule's base confidence, raised to high by a verified vendor
    /// checksum and lowered to low by a failed one; then lowered one step when the file is test
    /// or example material (by its path) or the secret itself says it is an example.
    public static func assess(_ rule: Rule, secret: String, path: String?) -> Assessment {
        var confidence = rule.baseConfidence
        var reasons: [String] = []
        if let name = rule.checksum, let check = Checksums.named(name) {
            switch check(secret) {
            case .valid:
                confidence = .high
                reasons.append("the token's \(name) checksum verifies")
            case .invalid:
                confidence = .low
                reasons.append("the token's \(name) checksum does not verify: a real token always has a valid one, so this one was likely typed by hand (documentation, test data)")
            }
        }
        if rule.publicSamples?.contains(secret) == true {
            confidence = .low
            reasons.append("a sample key the vendor publishes in its documentation or SDKs")
        }
        if let path, let material = testMaterial(path) {
            confidence = confidence.lowered()
            reasons.append("found in \(material)")
        } else if looksLikeExampleValue(secret) {
            confidence = confidence.lowered()
            reasons.append("the value reads like an example (\(exampleWord(secret) ?? "")")
        }
        return Assessment(confidence: confidence, reason: reasons.isEmpty ? nil : reasons.joined(separator: "; "))
    }

    /// Path components that mark test or example material in every ecosystem.
    static let testDirectories: Set<String> = [
        "test", "tests", "testing", "testdata", "test-data", "test_data", "__tests__", "spec", "specs",
        "fixtures", "fixture", "__fixtures__", "examples", "example", "samples", "sample", "demo", "demos",
        "mocks", "__mocks__", "testcases", "unittest", "unittests", "doc", "docs",
    ]

    /// Names test or example material when the path is one: "a test directory (tests/)", "a test
    /// file", "documentation".
    public static func testMaterial(_ path: String) -> String? {
        let parts = path.split(whereSeparator: { $0 == "/" || $0 == "!" })
        for part in parts.dropLast() {
            let lower = part.lowercased()
            if testDirectories.contains(lower) { return "test or example material (\(part)/)" }
        }
        guard let file = parts.last?.lowercased() else { return nil }
        if file.hasPrefix("test_") || file.hasSuffix("_test.go") || file.hasSuffix("_test.py") || file.contains(".test.")
            || file.contains(".spec.") || file.hasSuffix("_spec.rb") || file.hasSuffix("tests.java") || file.hasSuffix("test.java")
            || file.hasPrefix("example") || file.hasPrefix("sample") {
            return "a test or example file (\(parts.last!))"
        }
        if path.hasPrefix("/usr/share/doc/") || path.hasPrefix("/usr/share/man/") { return "documentation (/usr/share/doc)" }
        return nil
    }

    static let exampleWords = ["example", "sample", "dummy", "fake", "test", "demo", "placeholder"]

    static func exampleWord(_ secret: String) -> String? {
        let lower = secret.lowercased()
        return exampleWords.first { lower.contains($0) }.map { "contains \"\($0)\")" }
    }

    static func looksLikeExampleValue(_ secret: String) -> Bool { exampleWord(secret) != nil }
}
