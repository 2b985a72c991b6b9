import Foundation
@testable import ResidueRules
import XCTest

/// Vendor checksums, confidence, gitleaks configurations and the breadth of the built-in rules.
final class RuleBreadthTests: XCTestCase {
    func testGitHubAndNpmChecksums() {
        // Made-up bodies with their CRC32 computed as GitHub and npm do (zlib crc32, base62).
        XCTAssertEqual(Checksums.base62CRC32("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"), .valid)
        XCTAssertEqual(Checksums.base62CRC32("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"), .valid)
        XCTAssertEqual(Checksums.base62CRC32("ghp_Zr3vT9xL2mK7pQ4wYc8NQz5vL2mX7t1hW3FG"), .invalid)
        XCTAssertEqual(Checksums.base62CRC32("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), .invalid)
        XCTAssertEqual(Checksums.crc32(Array("123456789".utf8)), 0xCBF4_3926)
    }

    func testConfidence() throws {
        let rules = try RuleSet.defaults()
        let pat = try XCTUnwrap(rules.rule(id: "github-pat")).rule
        XCTAssertEqual(ConfidenceAssessor.assess(pat, secret: "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", path: "/app/.env").confidence, .high)
        let forged = ConfidenceAssessor.assess(pat, secret: "ghp_abcdefghijklmnopqrstuvwxyz0123456789", path: "/app/.env")
        XCTAssertEqual(forged.confidence, .low)
        XCTAssertNotNil(forged.reason)
        // Test material is ranked lower, not hidden.
        let generic = try XCTUnwrap(rules.rule(id: "generic-secret-assignment")).rule
        XCTAssertEqual(ConfidenceAssessor.assess(generic, secret: "Zx8pQ2rT7vLm3kYw", path: "/app/settings.py").confidence, .low)
        let sendgrid = try XCTUnwrap(rules.rule(id: "sendgrid-api-key")).rule
        let inTests = ConfidenceAssessor.assess(sendgrid, secret: "SG.x", path: "/usr/lib/python3/dist-packages/mail/tests/test_send.py")
        XCTAssertEqual(inTests.confidence, .medium)
        XCTAssertTrue(inTests.reason?.contains("tests/") ?? false)
    }

    func testBreadth() throws {
        let rules = try RuleLoader.defaultRules()
        XCTAssertGreaterThanOrEqual(rules.count, 150)
        for rule in rules {
            XCTAssertFalse((rule.examples ?? []).isEmpty, "\(rule.id) has no examples")
            XCTAssertFalse((rule.counterExamples ?? []).isEmpty, "\(rule.id) has no counter-examples")
        }
    }

    /// A residue rule file with `[[rules.allowlists]]` (as Rules/README.md documents) is residue's:
    /// its examples are tested and its severity kept, not read as a gitleaks configuration.
    func testResidueRuleWithAllowlistTablesIsResidues() throws {
        let text = """
        [[rules]]
        id = "acme-token"
        title = "Acme token"
        severity = "critical"
        regex = '''(acme_[a-z0-9]{24})'''
        keywords = ["acme_"]
        examples = ['''t = acme_q7x2v9wp5rdj4ng0k3yzt8mh''']
        counterExamples = ['''t = acme_000000000000000000000000''']
        [[rules.allowlists]]
        regexes = ['''^acme_0+$''']
        """
        XCTAssertFalse(GitleaksConfig.looksLikeGitleaks(text))
        let rules = try RuleLoader.parse(text, origin: "acme.toml")
        XCTAssertEqual(rules.first?.severity, .critical)
        XCTAssertEqual(rules.first?.examples?.count, 1)
        XCTAssertEqual(rules.first?.allowlists?.count, 1)
    }

    func testGitleaksConfigIsReadAsIs() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/rules/gitleaks.toml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(GitleaksConfig.looksLikeGitleaks(text))
        let rules = try RuleLoader.parse(text, origin: "gitleaks.toml")
        XCTAssertEqual(rules.map(\.id), ["acme-internal-token", "acme-db-password", "acme-license-file", "acme-api-key-anchored"])
        let set = try RuleSet(rules)
        let matcher = Matcher(set)
        func ids(_ text: String, _ path: String?) -> [String] { matcher.scan(text: text, path: path).map { set.rules[$0.ruleIndex].rule.id } }

        let token = "acme_live_q7x2v9wp5rdj4ng0k3yzt8mh1cb6elfs"
        XCTAssertEqual(ids("ACME_TOKEN=\(token)\n", "/app/.env"), ["acme-internal-token"])
        // Rule allowlist: its documentation path, its documented token (match target).
        XCTAssertEqual(ids("ACME_TOKEN=\(token)\n", "/app/docs/setup.md"), [])
        XCTAssertEqual(ids("t = acme_live_00000000000000000000000000000000 ", "/app/a.txt"), [])
        // Global allowlist: vendor/ paths and the stopword "example".
        XCTAssertEqual(ids("ACME_TOKEN=\(token)\n", "/app/vendor/acme/.env"), [])
        // path limits a rule; (?P<name>…) groups; stopwords; an AND allowlist needs both.
        XCTAssertEqual(ids("svc_db_password: Hq7vT2xL9pR4\n", "/etc/acme/app.yaml"), ["acme-db-password"])
        XCTAssertEqual(ids("svc_db_password: Hq7vT2xL9pR4\n", "/etc/acme/app.json"), [])
        XCTAssertEqual(ids("svc_db_password: changeme-please\n", "/etc/acme/app.yaml"), [])
        XCTAssertEqual(ids("svc_db_password: Hq7vT2xL9pR4  # dev-only\n", "/etc/acme/local.yaml"), [])
        XCTAssertEqual(ids("svc_db_password: Hq7vT2xL9pR4  # dev-only\n", "/etc/acme/prod.yaml"), ["acme-db-password"])
        // A path-only rule reports the file.
        XCTAssertEqual(ids("LICENSE-7731-AX\n", "/opt/acme/acme.lic"), ["acme-license-file"])
        // (?m) keeps $ an end of line.
        XCTAssertEqual(ids("x\nAK0123456789ABCDEF0123456789ABCD\ny", "/a"), ["acme-api-key-anchored"])
    }

    func testRE2Translation() throws {
        XCTAssertEqual(try GitleaksConfig.translate(re2: #"^abc$"#), #"^abc\z"#)
        XCTAssertEqual(try GitleaksConfig.translate(re2: #"(?m)^abc$"#), #"(?m)^abc$"#)
        XCTAssertEqual(try GitleaksConfig.translate(re2: #"[$^]x\$"#), #"[$^]x\$"#)
        XCTAssertEqual(try GitleaksConfig.translate(re2: #"a\Cb"#), #"a[\x00-\xff]b"#)
        XCTAssertEqual(try GitleaksConfig.translate(re2: #"[[:alpha:]$]+$"#), #"[[:alpha:]$]+\z"#)
        XCTAssertThrowsError(try GitleaksConfig.translate(re2: #"\x{2603}"#))
    }

    func testBrokenGitleaksRuleNamesTheRule() {
        let text = """
        [[rules]]
        id = "team-broken"
        description = "unbalanced"
        regex = '''(abc'''
        keywords = ["abc"]
        """
        XCTAssertThrowsError(try RuleLoader.parse(text, origin: "team.toml")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("team.toml"), message)
            XCTAssertTrue(message.contains("team-broken"), message)
            XCTAssertTrue(message.contains("does not compile"), message)
        }
    }
}
