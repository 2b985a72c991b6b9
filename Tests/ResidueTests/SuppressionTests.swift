import Foundation
import XCTest

/// `.residue.toml` (rules, thresholds, allowlists with reasons) and `--baseline`, through the
/// real binary. Whatever is not reported is counted and listed with its reason.
final class SuppressionTests: XCTestCase {
    var temporary: URL!
    let image = "Fixtures/images/legacy.docker.tar" // github-pat (config), private-key-openssh, npm-token

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("residue-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temporary) }

    func config(_ text: String, name: String = ".residue.toml") throws -> String {
        let url = temporary.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func scan(_ arguments: [String]) throws -> (CLIResult, [String: Any]) {
        let result = try CLI.run(["scan", CLI.packageRoot.appendingPathComponent(image).path, "--format", "json"] + arguments)
        return (result, result.json ?? [:])
    }

    func summary(_ json: [String: Any]) -> [String: Any] { json["summary"] as? [String: Any] ?? [:] }

    func suppressed(_ json: [String: Any]) -> [(by: String, reason: String, rule: String)] {
        (json["suppressed"] as? [[String: Any]] ?? []).map {
            ($0["by"] as? String ?? "", $0["reason"] as? String ?? "", (($0["finding"] as? [String: Any])?["ruleId"] as? String) ?? "")
        }
    }

    func testNoConfigNothingSuppressed() throws {
        let (result, json) = try scan([])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(summary(json)["suppressed"] as? Int, 0)
        XCTAssertEqual(summary(json)["baselined"] as? Int, 0)
        XCTAssertEqual((json["suppressed"] as? [Any])?.count, 0)
    }

    func testMinConfidenceHidesAndCounts() throws {
        let (_, plain) = try scan([])
        let all = plain["findings"] as? [[String: Any]] ?? []
        let rank = ["low": 0, "medium": 1, "high": 2]
        for threshold in ["low", "medium", "high"] {
            for arguments in [["--min-confidence", threshold], ["--config", try config("min-confidence = \"\(threshold)\"\n")]] {
                let (_, json) = try scan(arguments)
                let kept = json["findings"] as? [[String: Any]] ?? []
                let expected = all.filter { rank[$0["confidence"] as? String ?? "medium"]! >= rank[threshold]! }
                XCTAssertEqual(kept.count, expected.count, "\(arguments)")
                XCTAssertEqual(summary(json)["belowConfidence"] as? Int, all.count - expected.count, "\(arguments)")
                XCTAssertEqual(suppressed(json).filter { $0.by == "confidence" }.count, all.count - expected.count)
                XCTAssertEqual(summary(json)["suppressed"] as? Int, 0)
            }
        }
        // The image has findings below high, so the high threshold really hides something.
        XCTAssertTrue(all.contains { ($0["confidence"] as? String) != "high" })
        let bad = try CLI.run(["scan", CLI.packageRoot.appendingPathComponent(image).path, "--config", try config("min-confidence = \"sure\"\n")])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("min-confidence"), bad.stderr)
    }

    func testEveryKindOfAllowlistEntry() throws {
        let (_, plain) = try scan([])
        let key = (plain["findings"] as? [[String: Any]] ?? []).first { $0["ruleId"] as? String == "private-key-openssh" }
        let keyLayer = ((key?["location"] as? [String: Any])?["layerDigest"] as? String) ?? ""
        let cases: [(String, String)] = [
            ("paths = ['^/root/\\.npmrc$']", "npm-token"),
            ("regexes = ['^ghp_']", "github-pat"),
            ("stopwords = ['GHP_']", "github-pat"),          // case-insensitive
            ("layers = ['\(keyLayer)']", "private-key-openssh"),
            ("layers = ['\(keyLayer.prefix(19))']", "private-key-openssh"), // the short digest the text report shows
            ("fingerprints = ['\((key?["fingerprint"] as? String) ?? "")']", "private-key-openssh"),
            ("rules = ['npm-token']", "npm-token"),
        ]
        for (condition, rule) in cases {
            let path = try config("[[allowlist]]\nreason = \"accepted: \(rule)\"\n\(condition)\n")
            let (result, json) = try scan(["--config", path])
            XCTAssertEqual(result.status, 1, condition)
            XCTAssertEqual(result.stderr, "", condition)
            XCTAssertEqual(suppressed(json).map(\.rule), [rule], condition)
            XCTAssertEqual(suppressed(json).first?.by, "allowlist")
            XCTAssertEqual(suppressed(json).first?.reason, "accepted: \(rule)")
            XCTAssertEqual(summary(json)["suppressed"] as? Int, 1, condition)
            XCTAssertEqual(summary(json)["findings"] as? Int, 2, condition)
            XCTAssertFalse((json["findings"] as? [[String: Any]] ?? []).contains { $0["ruleId"] as? String == rule }, condition)
        }
        // An entry scoped to other rules does not apply.
        let scoped = try config("[[allowlist]]\nreason = \"only jwt\"\nrules = ['jwt']\npaths = ['.*']\n")
        XCTAssertEqual(suppressed(try scan(["--config", scoped]).1).count, 0)
        // A regex on the secret sees the secret in clear, but the report stays redacted.
        let (_, json) = try scan(["--config", try config("[[allowlist]]\nreason = \"r\"\nregexes = ['^ghp_']\n")])
        let listed = (json["suppressed"] as? [[String: Any]])?.first?["finding"] as? [String: Any]
        XCTAssertEqual(listed?["secret"] as? String, "ghp_*****")
        XCTAssertNil(listed?["clearSecret"])
    }

    func testEveryoneMustGiveAReason() throws {
        for entry in ["[[allowlist]]\npaths = ['^/root/']\n", "[[allowlist]]\nreason = \"  \"\npaths = ['^/root/']\n"] {
            let path = try config(entry)
            let result = try CLI.run(["scan", image, "--config", path])
            XCTAssertEqual(result.status, 2, entry)
            XCTAssertEqual(result.stdout, "")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("[[allowlist]] #1: missing \"reason\""), result.stderr)
        }
    }

    func testConfigMistakesAreErrors() throws {
        let cases: [(String, String)] = [
            ("fail-on = \"severe\"\n", "fail-on = \"severe\""),
            ("disable-rules = [\"no-such-rule\"]\n", "no rule \"no-such-rule\""),
            ("allowlists = []\n", "unknown key \"allowlists\""),
            ("[[allowlist]]\nreason = \"x\"\npath = ['a']\n", "unknown key \"path\""),
            ("[[allowlist]]\nreason = \"x\"\n", "allows nothing"),
            ("[[allowlist]]\nreason = \"x\"\npaths = ['(']\n", "regex does not compile"),
            ("fail-on = [\n", "line "),
        ]
        for (text, message) in cases {
            let result = try CLI.run(["scan", image, "--config", try config(text)])
            XCTAssertEqual(result.status, 2, text)
            XCTAssertTrue(result.stderr.contains(message), "\(text): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        let missing = try CLI.run(["scan", image, "--config", temporary.appendingPathComponent("none.toml").path])
        XCTAssertEqual(missing.status, 2)
    }

    func testThresholdsAndRules() throws {
        // fail-on from the config; the command line wins.
        let failOn = try config("fail-on = \"critical\"\ndisable-rules = [\"github-pat\", \"secret-named-variable\", \"private-key-openssh\"]\n")
        XCTAssertEqual(try scan(["--config", failOn]).0.status, 0, "only a high finding left, fail-on critical")
        XCTAssertEqual(try scan(["--config", failOn, "--fail-on", "high"]).0.status, 1)
        let (_, disabled) = try scan(["--config", failOn])
        XCTAssertEqual((disabled["findings"] as? [[String: Any]])?.compactMap { $0["ruleId"] as? String }, ["npm-token"])
        XCTAssertEqual(summary(disabled)["suppressed"] as? Int, 0, "a disabled rule does not run: nothing to suppress")

        // min-severity: below it, counted as suppressed with the threshold as the reason.
        let minimum = try config("min-severity = \"critical\"\n")
        let (_, json) = try scan(["--config", minimum])
        XCTAssertEqual(suppressed(json).map(\.by), ["severity"])
        XCTAssertEqual(suppressed(json).map(\.rule), ["npm-token"])

        // Rules added inline and from a file next to the config.
        try "[[rules]]\nid = \"acme-deploy\"\ntitle = \"ACME\"\nseverity = \"low\"\nregex = 'acme_[a-z]{8}'\nkeywords = [\"acme_\"]\n"
            .write(to: temporary.appendingPathComponent("more.toml"), atomically: true, encoding: .utf8)
        let adding = try config("rule-files = [\"more.toml\"]\n[[rules]]\nid = \"acme-inline\"\ntitle = \"ACME inline\"\nseverity = \"low\"\nregex = 'acmi_[a-z]{8}'\nkeywords = [\"acmi_\"]\n")
        let (result, _) = try scan(["--config", adding])
        XCTAssertEqual(result.status, 1, result.stderr)
        // The added rules are compiled: a broken one is an error naming the config.
        let broken = try config("[[rules]]\nid = \"bad\"\ntitle = \"B\"\nseverity = \"low\"\nregex = '('\nkeywords = [\"b\"]\n", name: "broken.toml")
        let refused = try CLI.run(["scan", image, "--config", broken])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("rule bad"), refused.stderr)
    }

    func testConfigIsFoundInTheCurrentFolder() throws {
        _ = try config("[[allowlist]]\nreason = \"here\"\nrules = [\"npm-token\"]\n")
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["scan", CLI.packageRoot.appendingPathComponent(image).path]
        process.currentDirectoryURL = temporary
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertTrue(text.contains("2 secrets found"), text)
        XCTAssertTrue(text.contains("1 suppressed by .residue.toml"), text)
    }

    func testBaselineInEveryReportFormat() throws {
        for format in ["json", "jsonl", "sarif"] {
            let baseline = temporary.appendingPathComponent("baseline.\(format)").path
            XCTAssertEqual(try CLI.run(["scan", image, "--format", format, "--output", baseline]).status, 1)
            let (result, json) = try scan(["--baseline", baseline])
            XCTAssertEqual(result.status, 0, "\(format): everything is in the baseline")
            XCTAssertEqual(summary(json)["findings"] as? Int, 0)
            XCTAssertEqual(summary(json)["baselined"] as? Int, 3, format)
            XCTAssertEqual(Set(suppressed(json).map(\.by)), ["baseline"])
            let text = try CLI.run(["scan", image, "--baseline", baseline])
            XCTAssertTrue(text.stdout.contains("No secrets found; 3 already in the baseline"), text.stdout)
        }
    }

    /// A baseline from an older image: only what is new is reported (and gates), the SARIF
    /// says `new`, and a report made with a baseline still carries the baseline forward.
    func testOnlyNewFindingsGate() throws {
        // docker25 and build-arg share the build-arg secrets; legacy's are different.
        let old = temporary.appendingPathComponent("old.json").path
        _ = try CLI.run(["scan", "Fixtures/images/build-arg.docker.tar", "--format", "json", "--output", old])
        let same = try CLI.run(["scan", "Fixtures/images/docker25.docker.tar", "--format", "json", "--baseline", old])
        XCTAssertEqual(same.status, 0, "a rebuild of the same image: nothing new")
        let other = try CLI.run(["scan", image, "--format", "json", "--baseline", old])
        XCTAssertEqual(other.status, 1)
        XCTAssertEqual(other.findings.count, 3)

        let sarif = try CLI.run(["scan", image, "--format", "sarif", "--baseline", old])
        let results = ((ReportFormatTests.object(sarif.stdout)["runs"] as? [[String: Any]])?[0]["results"] as? [[String: Any]]) ?? []
        XCTAssertEqual(results.compactMap { $0["baselineState"] as? String }, ["new", "new", "new"])

        // Chained: the report made with a baseline lists the baselined findings, so using it as
        // the next baseline still hides them.
        let chained = temporary.appendingPathComponent("chained.json").path
        _ = try CLI.run(["scan", "Fixtures/images/docker25.docker.tar", "--format", "json", "--baseline", old, "--output", chained])
        XCTAssertEqual(try CLI.run(["scan", "Fixtures/images/build-arg.docker.tar", "--baseline", chained]).status, 0)

        let bad = try config("not a report", name: "bad.json")
        let refused = try CLI.run(["scan", image, "--baseline", bad])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("bad.json"), refused.stderr)
        try SARIFValidator.assertValid(["baseline-new": sarif.stdout])
    }

    func testSuppressedFindingsInSARIF() throws {
        let path = try config("[[allowlist]]\nreason = \"rotated in 2023 (SEC-4)\"\nrules = [\"npm-token\"]\n")
        let sarif = try CLI.run(["scan", image, "--format", "sarif", "--config", path])
        XCTAssertEqual(sarif.status, 1)
        let run = ((ReportFormatTests.object(sarif.stdout)["runs"] as? [[String: Any]]) ?? [])[0]
        let results = run["results"] as? [[String: Any]] ?? []
        XCTAssertEqual(results.count, 3, "suppressed results stay, marked")
        let marked = results.filter { $0["suppressions"] != nil }
        XCTAssertEqual(marked.count, 1)
        let suppression = (marked[0]["suppressions"] as? [[String: Any]])?.first
        XCTAssertEqual(suppression?["kind"] as? String, "external")
        XCTAssertEqual(suppression?["justification"] as? String, "rotated in 2023 (SEC-4)")
        XCTAssertEqual(((run["properties"] as? [String: Any])?["summary"] as? [String: Any])?["suppressed"] as? Int, 1)
        try SARIFValidator.assertValid(["suppressed": sarif.stdout])
    }
}
