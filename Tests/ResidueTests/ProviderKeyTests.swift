@testable import ResidueRules
import XCTest

/// `[[providers]]` tables become rules (ProviderKey): the generated rule finds a key by the
/// provider's name nearby, and a malformed table is an error that names it.
final class ProviderKeyTests: XCTestCase {
    func rules(_ text: String) throws -> [Rule] { try RuleLoader.parse(text, origin: "test.toml") }

    func provider(_ fields: String) -> String {
        "[[providers]]\nid = \"acme-api-key\"\nprovider = \"Acme\"\nkeywords = [\"acme\"]\n" + fields + "\n"
    }

    func testGeneratedRuleFindsKeysNearTheName() throws {
        let rule = try XCTUnwrap(rules(provider("alphabet = \"hex\"\nlengths = [32]")).first)
        XCTAssertEqual(rule.title, "Acme API key (by name)")
        XCTAssertEqual(rule.baseConfidence, .medium)
        XCTAssertEqual(rule.keywordLead, 0)
        let set = try RuleSet([rule])
        let matcher = Matcher(set)
        let key = "3f9a1c7e5b2d8f4a6c0e9b1d7a3f5c8e"
        XCTAssertEqual(matcher.scan(text: "ACME_API_KEY=\(key)").map(\.secret), [key])
        XCTAssertEqual(matcher.scan(text: "acme:\n  token: \"\(key)\"").map(\.secret), [key])
        // Too far, part of a longer run, no digit, no provider word.
        XCTAssertEqual(matcher.scan(text: "acme" + String(repeating: " ", count: 60) + key).count, 0)
        XCTAssertEqual(matcher.scan(text: "ACME_API_KEY=\(key)ff").count, 0)
        XCTAssertEqual(matcher.scan(text: "ACME_API_KEY=abcdefabcdefabcdefabcdefabcdefab").count, 0)
        XCTAssertEqual(matcher.scan(text: "OTHER_API_KEY=\(key)").count, 0)
    }

    /// Where the provider's name is also a package's, the run beside it is often a digest.
    func testDigestsBesideTheNameAreNotKeys() throws {
        let rule = try XCTUnwrap(rules(provider("alphabet = \"base64url\"\nlengths = [32]")).first)
        let matcher = Matcher(try RuleSet([rule]))
        let run = "Kx8vL2mQ9tR4wYc6NpZ3aB7dE1fG5hJ0"
        XCTAssertEqual(matcher.scan(text: "ACME_TOKEN=\(run)").map(\.secret), [run])
        for digest in ["acme-1.2.0.dist-info/METADATA,sha256=\(run),2048", "acme v1.4.0 h1:\(run)=",
                       "\"acme\": {\"integrity\": \"sha512-\(run)+Qm9vZ==\"}", "acme@\(run)", "acme.tgz#\(run)"] {
            XCTAssertEqual(matcher.scan(text: digest).count, 0, digest)
        }
    }

    func testLengthRangesAndCustomAlphabets() throws {
        let rule = try XCTUnwrap(rules(provider("alphabet = \"[A-Za-z0-9_]\"\nminLength = 20\nmaxLength = 24\ndistance = 10")).first)
        let matcher = Matcher(try RuleSet([rule]))
        XCTAssertEqual(matcher.scan(text: "acme = Kx8_vL2mQ9tR4wYc6N").count, 0) // 18 characters
        XCTAssertEqual(matcher.scan(text: "acme = Kx8_vL2mQ9tR4wYc6NpZ3").map(\.secret), ["Kx8_vL2mQ9tR4wYc6NpZ3"])
        XCTAssertEqual(matcher.scan(text: "acme = Kx8_vL2mQ9tR4wYc6NpZ3Kx8_vL2mQ9").count, 0)
    }

    func testMalformedTablesAreErrorsNamingTheProvider() {
        let cases = [
            provider("alphabet = \"emoji\"\nlengths = [32]"),
            provider("alphabet = \"hex\""),
            provider("alphabet = \"hex\"\nlengths = [4]"),
            provider("alphabet = \"hex\"\nlengths = [32]\nminLength = 20\nmaxLength = 40"),
            provider("alphabet = \"hex\"\nminLength = 40\nmaxLength = 20"),
            provider("alphabet = \"hex\"\nlengths = [32]\ndistance = 5000"),
            "[[providers]]\nid = \"x\"\nprovider = \"X\"\nkeywords = [\"\"]\nalphabet = \"hex\"\nlengths = [32]\n",
        ]
        for text in cases {
            XCTAssertThrowsError(try rules(text), text) { error in
                XCTAssertTrue("\(error)".hasPrefix("test.toml: provider "), "\(error)")
            }
        }
    }

    func testPublicSamplesAreReportedLow() throws {
        var rule = try XCTUnwrap(rules(provider("alphabet = \"hex\"\nlengths = [32]")).first)
        rule.publicSamples = ["3f9a1c7e5b2d8f4a6c0e9b1d7a3f5c8e"]
        let sample = ConfidenceAssessor.assess(rule, secret: "3f9a1c7e5b2d8f4a6c0e9b1d7a3f5c8e", path: "/app/.env")
        XCTAssertEqual(sample.confidence, .low)
        XCTAssertNotNil(sample.reason)
        XCTAssertEqual(ConfidenceAssessor.assess(rule, secret: "9e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f", path: "/app/.env").confidence, .medium)
    }
}
