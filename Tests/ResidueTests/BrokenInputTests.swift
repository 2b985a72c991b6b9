import Foundation
import XCTest

/// Broken and hostile images (Fixtures/broken, made by make_broken.py): each either fails with
/// exit 2 and one line naming the problem, or scans to completion with exactly the expected
/// findings — never a crash, a hang or a silent partial result.
final class BrokenInputTests: XCTestCase {
    func testEveryBrokenCase() throws {
        let url = CLI.packageRoot.appendingPathComponent("Fixtures/broken/cases.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let cases = root["cases"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(cases.count, 15)
        for item in cases {
            let name = item["name"] as! String
            let extra = item["args"] as? [String] ?? []
            let result = try CLI.run(["scan", item["reference"] as! String, "--format", "json"] + extra)
            switch item["expect"] as! String {
            case "error":
                XCTAssertEqual(result.status, 2, "\(name): exit status; stderr: \(result.stderr)")
                XCTAssertEqual(result.stdout, "", "\(name): no report for an image that could not be scanned")
                XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(name): one line: \(result.stderr)")
                XCTAssertTrue(result.stderr.hasPrefix("residue: "), name)
                if let mention = item["mentions"] as? String {
                    XCTAssertTrue(result.stderr.contains(mention), "\(name): \(result.stderr) should mention \(mention)")
                }
            default:
                let expected = item["findings"] as? [[String: String]] ?? []
                XCTAssertEqual(result.status, expected.isEmpty ? 0 : 1, "\(name): \(result.stderr)")
                XCTAssertEqual(result.stderr, "", name)
                let found = result.findings.map { finding -> (String, String) in
                    ((finding["ruleId"] as? String) ?? "", ((finding["location"] as? [String: Any])?["path"] as? String) ?? "")
                }
                XCTAssertEqual(found.count, expected.count, "\(name): \(found)")
                // A limit that was reached is in the report, never a silent truncation.
                let skipped = ((result.json?["summary"] as? [String: Any])?["skipped"] as? [[String: Any]] ?? [])
                    .compactMap { $0["reason"] as? String }
                if let want = item["skipped"] as? String {
                    XCTAssertTrue(skipped.contains { $0.contains(want) }, "\(name): skipped should mention \(want): \(skipped)")
                } else {
                    XCTAssertEqual(skipped, [], "\(name): nothing should be skipped")
                }
                for want in expected {
                    XCTAssertTrue(found.contains { $0.0 == want["ruleId"] && ($0.1 == want["path"] || (want["pathPrefix"].map($0.1.hasPrefix) ?? false)) },
                                  "\(name): expected \(want) in \(found)")
                }
            }
        }
    }

    func testHistoryMismatchIsAWarningNotAGuess() throws {
        let result = try CLI.run(["scan", "oci:Fixtures/broken/history-short", "--format", "json"])
        let summary = result.json?["summary"] as? [String: Any]
        let warnings = summary?["warnings"] as? [String] ?? []
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("not attributed") ?? false, "\(warnings)")
        let finding = result.findings.first?["location"] as? [String: Any]
        XCTAssertEqual(finding?["historyIndex"] as? Int, 0, "the layer that lines up keeps its instruction")
    }

    /// The limits are flags: without --max-file-size the big file's secret is found.
    func testLimitsAreOptionsWithDefaults() throws {
        let result = try CLI.run(["scan", "oci:Fixtures/broken/big-file", "--format", "json"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.findings.count, 1)
        let deeper = try CLI.run(["scan", "oci:Fixtures/broken/nested-too-deep", "--format", "json", "--max-depth", "8"])
        XCTAssertEqual(deeper.findings.map { ($0["location"] as? [String: Any])?["path"] as? String },
                       ["/level4.tar.gz!level3.tar.gz!level2.tar.gz!level1.tar.gz!level0.tar.gz!deepest/.env"])
        let bad = try CLI.run(["scan", "oci:Fixtures/broken/big-file", "--max-file-size", "lots"])
        XCTAssertEqual(bad.status, 2)
    }

    /// A hostile image never makes residue touch the host: the paths its entries name stay untouched.
    func testHostileNamesNeverReachTheHost() throws {
        let result = try CLI.run(["scan", "oci:Fixtures/broken/hostile-names", "--format", "json"])
        XCTAssertEqual(result.status, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/etc/cron.d/evil"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/abs/secret.env"))
    }
}
