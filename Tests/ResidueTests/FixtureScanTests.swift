import Foundation
import XCTest

/// Scans every fixture image (built by buildah, see Fixtures/README.md) with the real binary
/// and checks each planted secret against Fixtures/expected.json: rule, place, status, layer,
/// history entry, line — and that nothing else is reported.
final class FixtureScanTests: XCTestCase {
    struct Fixture {
        let name: String
        let reference: String
        let clean: Bool
        let planted: [[String: Any]]
        let absentSecrets: [String]
    }

    nonisolated(unsafe) static let fixtures: [Fixture] = {
        let url = CLI.packageRoot.appendingPathComponent("Fixtures/expected.json")
        guard let data = try? Data(contentsOf: url),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let list = root["fixtures"] as? [[String: Any]] else { return [] }
        return list.map { item in
            Fixture(name: item["name"] as? String ?? "?", reference: item["reference"] as? String ?? "",
                    clean: item["clean"] as? Bool ?? false, planted: item["planted"] as? [[String: Any]] ?? [],
                    absentSecrets: (item["absentSecrets"] as? [Any] ?? []).compactMap { ($0 as? String) ?? (($0 as? [String: Any])?["secret"] as? String) })
        }
    }()

    func testExpectationsLoaded() {
        XCTAssertGreaterThanOrEqual(Self.fixtures.count, 15)
        XCTAssertTrue(Self.fixtures.contains { $0.clean })
        XCTAssertTrue(Self.fixtures.contains { !$0.clean })
    }

    /// The place of a planted secret, as residue's JSON should show it.
    func expectedPath(_ planted: [String: Any]) -> String? {
        guard let path = planted["path"] as? String else { return nil }
        let nested = planted["nestedPath"] as? [String] ?? []
        return ([path] + nested).joined(separator: "!")
    }

    func location(_ location: [String: Any], matches planted: [String: Any]) -> Bool {
        if let kind = planted["kind"] as? String, location["kind"] as? String != kind { return false }
        if let path = expectedPath(planted), location["path"] as? String != path { return false }
        for key in ["status", "platform", "key"] {
            if let want = planted[key] as? String, location[key] as? String != want { return false }
        }
        for key in ["layerIndex", "line"] {
            if let want = planted[key] as? Int, location[key] as? Int != want { return false }
        }
        if (planted["kind"] as? String) == "history", let want = planted["historyIndex"] as? Int,
           location["historyIndex"] as? Int != want { return false }
        if let prefix = planted["instructionPrefix"] as? String, let instruction = location["instruction"] as? String,
           !instruction.hasPrefix(prefix) { return false }
        return true
    }

    func finding(_ finding: [String: Any], claims planted: [String: Any]) -> Bool {
        let accepted = [planted["ruleId"] as? String].compactMap { $0 } + (planted["alsoAcceptedRuleIds"] as? [String] ?? [])
        guard let rule = finding["ruleId"] as? String, accepted.contains(rule) else { return false }
        guard let secret = finding["secret"] as? String, let plantedSecret = planted["secret"] as? String,
              secret.contains(plantedSecret) || plantedSecret.contains(secret) else { return false }
        let locations = [finding["location"] as? [String: Any]].compactMap { $0 } + (finding["alsoAt"] as? [[String: Any]] ?? [])
        return location(locations[0], matches: planted) || locations.dropFirst().contains { location($0, matches: planted) }
    }

    func testEveryFixture() throws {
        for fixture in Self.fixtures {
            let result = try CLI.run(["scan", fixture.reference, "--format", "json", "--show-secrets"])
            XCTAssertEqual(result.stderr, "", "\(fixture.name): stderr")
            guard let json = result.json else {
                XCTFail("\(fixture.name): no JSON report (exit \(result.status)): \(result.stderr)")
                continue
            }
            let findings = json["findings"] as? [[String: Any]] ?? []
            if fixture.clean {
                XCTAssertEqual(result.status, 0, "\(fixture.name) is clean but residue reported: \(findings.map { $0["ruleId"] ?? "" })")
                XCTAssertTrue(findings.isEmpty)
                for secret in fixture.absentSecrets {
                    XCTAssertFalse(result.stdout.contains(secret), "\(fixture.name): \(secret.prefix(6))… appears in the report")
                }
                continue
            }
            XCTAssertEqual(result.status, 1, "\(fixture.name): exit status")
            for planted in fixture.planted {
                let claims = findings.filter { finding($0, claims: planted) }
                XCTAssertEqual(claims.count, 1, "\(fixture.name): planted \(planted["ruleId"] ?? "") at \(expectedPath(planted) ?? (planted["kind"] as? String ?? "")) found \(claims.count) times; findings: \(describe(findings))")
            }
            // Nothing reported that was not planted.
            for found in findings {
                let plantedSecrets = fixture.planted.compactMap { $0["secret"] as? String }
                let secret = found["secret"] as? String ?? ""
                XCTAssertTrue(plantedSecrets.contains { secret.contains($0) || $0.contains(secret) },
                              "\(fixture.name): unexpected finding \(describe([found]))")
            }
        }
    }

    func describe(_ findings: [[String: Any]]) -> String {
        findings.map { finding in
            let location = finding["location"] as? [String: Any] ?? [:]
            return "\(finding["ruleId"] ?? "?")@\(location["kind"] ?? "?"):\(location["path"] ?? location["key"] ?? "")[\(location["status"] ?? "")] L\(location["layerIndex"] ?? "-") line \(location["line"] ?? "-")"
        }.joined(separator: "; ")
    }

    /// Without --show-secrets no planted secret appears anywhere: stdout and stderr in every
    /// format, the report files written with --output (mode 0600), and every file of the layer
    /// cache, which the later formats read warm.
    func testSecretsAreRedactedByDefault() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("residue-hygiene-\(UUID().uuidString)")
        let cache = folder.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for fixture in Self.fixtures where !fixture.clean {
            let probes = fixture.planted.compactMap { $0["secret"] as? String }.map { secret in
                // Short planted values (a password) are checked whole; long ones by a 12-character
                // slice from the middle (past any vendor prefix or BEGIN line), so a partial leak is caught too.
                secret.count > 24 ? String(secret.dropFirst(secret.count / 2).prefix(12)) : secret
            }
            for format in ["json", "text", "jsonl", "sarif"] {
                let report = folder.appendingPathComponent("\(fixture.name).\(format)")
                for arguments in [["--format", format], ["--format", format, "--output", report.path]] {
                    let result = try CLI.run(["scan", fixture.reference, "--cache-dir", cache.path] + arguments)
                    XCTAssertEqual(result.status, 1, "\(fixture.name) \(format)")
                    for probe in probes {
                        XCTAssertFalse(result.stdout.contains(probe), "\(fixture.name) \(format): a secret leaked to stdout")
                        XCTAssertFalse(result.stderr.contains(probe), "\(fixture.name) \(format): a secret leaked to stderr")
                    }
                }
                let written = try Data(contentsOf: report)
                XCTAssertFalse(written.isEmpty)
                let mode = (try FileManager.default.attributesOfItem(atPath: report.path)[.posixPermissions] as? NSNumber)?.intValue
                XCTAssertEqual(mode, 0o600, "\(report.lastPathComponent) is readable by others")
                for probe in probes {
                    XCTAssertNil(written.range(of: Data(probe.utf8)), "\(fixture.name) \(format): a secret leaked to --output")
                }
            }
            for file in try Self.files(under: cache) {
                let bytes = try Data(contentsOf: file)
                for probe in probes {
                    XCTAssertNil(bytes.range(of: Data(probe.utf8)), "\(fixture.name): a secret is in the cache file \(file.lastPathComponent)")
                }
            }
        }
        XCTAssertFalse(try Self.files(under: cache).isEmpty, "the scans used the cache")
    }

    static func files(under folder: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}
