import Foundation
import XCTest

/// The on-disk layer cache: a warm scan reports what the cold one did, nothing secret is ever
/// written to the cache folder, and a different rule set does not reuse stale results.
final class CacheTests: XCTestCase {
    var cacheDir: URL!

    override func setUpWithError() throws {
        cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("residue-cache-test-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: cacheDir)
    }

    var cache: [String] { ["--cache-dir", cacheDir.path] }

    /// Every planted secret of every fixture (Fixtures/expected.json).
    func plantedSecrets() -> [String] {
        FixtureScanTests.fixtures.flatMap { fixture in fixture.planted.compactMap { $0["secret"] as? String } }
    }

    /// Findings without the fields a scan of the same image may not reproduce (none, today).
    func findings(_ result: CLIResult) -> String {
        let data = try? JSONSerialization.data(withJSONObject: result.json?["findings"] ?? [], options: [.sortedKeys])
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    func testWarmScanReportsWhatTheColdScanDid() throws {
        for reference in ["oci:Fixtures/images/oci", "docker-archive:Fixtures/images/legacy.docker.tar"] {
            let uncached = try CLI.run(["scan", reference, "--format", "json", "--no-cache"])
            let cold = try CLI.run(["scan", reference, "--format", "json"] + cache)
            let warm = try CLI.run(["scan", reference, "--format", "json"] + cache)
            XCTAssertEqual(cold.status, 1, cold.stderr)
            XCTAssertEqual(warm.status, 1, warm.stderr)
            XCTAssertFalse(findings(uncached).isEmpty)
            XCTAssertEqual(findings(cold), findings(uncached), reference)
            XCTAssertEqual(findings(warm), findings(cold), reference)
            XCTAssertEqual(warm.stderr, "")
            let coldText = try CLI.run(["scan", reference, "--no-color"] + cache)
            let warmText = try CLI.run(["scan", reference, "--no-color"] + cache)
            XCTAssertEqual(warmText.stdout, coldText.stdout)
        }
    }

    func testNoSecretIsWrittenToTheCache() throws {
        let result = try CLI.run(["scan", "oci:Fixtures/images/oci", "--format", "json"] + cache)
        XCTAssertEqual(result.status, 1, result.stderr)
        let files = FileManager.default.enumerator(at: cacheDir, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        XCTAssertTrue(files.contains { $0.lastPathComponent == "layers.sqlite" })
        var bytes = Data()
        for file in files { bytes += (try? Data(contentsOf: file)) ?? Data() }
        XCTAssertGreaterThan(bytes.count, 1000)
        let secrets = plantedSecrets()
        XCTAssertGreaterThan(secrets.count, 10)
        for secret in secrets {
            // Whole, and a 12-byte slice from the middle (past any vendor prefix or BEGIN line).
            let probes = [secret] + (secret.count > 24 ? [String(secret.dropFirst(secret.count / 2).prefix(12))] : [])
            for probe in probes {
                XCTAssertNil(bytes.range(of: Data(probe.utf8)), "a planted secret is in the cache: \(probe.prefix(4))…")
            }
        }
    }

    func testShowSecretsRescansCachedLayersWithFindings() throws {
        let reference = "docker-archive:Fixtures/images/legacy.docker.tar"
        _ = try CLI.run(["scan", reference, "--format", "json"] + cache)
        let warm = try CLI.run(["scan", reference, "--format", "json", "--show-secrets"] + cache)
        let direct = try CLI.run(["scan", reference, "--format", "json", "--show-secrets", "--no-cache"])
        XCTAssertEqual(findings(warm), findings(direct))
        XCTAssertTrue(warm.stdout.contains("BEGIN OPENSSH PRIVATE KEY-----\\n"), "the key is shown whole")
    }

    func testAnotherRuleSetDoesNotReuseResults() throws {
        let reference = "docker-archive:Fixtures/images/legacy.docker.tar"
        let before = try CLI.run(["scan", reference, "--format", "json"] + cache)
        XCTAssertFalse(before.stdout.contains("test-app-source"))
        let rules = cacheDir.appendingPathComponent("extra.toml")
        try """
        [[rules]]
        id = "test-app-source"
        title = "The fixture's app source marker"
        severity = "low"
        regex = '''git@github\\.com:(example/app\\.git)'''
        keywords = ["git@github.com:"]
        examples = ['''git@github.com:example/app.git''']
        counterExamples = ['''git@gitlab.com:example/app.git''']
        """.write(to: rules, atomically: true, encoding: .utf8)
        let after = try CLI.run(["scan", reference, "--format", "json", "--rules", rules.path] + cache)
        let uncached = try CLI.run(["scan", reference, "--format", "json", "--rules", rules.path, "--no-cache"])
        XCTAssertTrue(after.stdout.contains("test-app-source"), "a new rule must see cached layers again")
        XCTAssertEqual(findings(after), findings(uncached))
    }

    func testAnUnusableCacheIsAWarningNotAFailure() throws {
        let file = cacheDir.appendingPathComponent("not-a-folder")
        try FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: file)
        let result = try CLI.run(["scan", "docker-archive:Fixtures/images/legacy.docker.tar", "--cache-dir", file.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("layer cache disabled"), result.stderr)
    }
}
