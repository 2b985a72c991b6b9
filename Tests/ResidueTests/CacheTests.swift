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

/// `.residue.toml` allowlist regexes and stopwords test the secret itself, which the cache does
/// not keep: the layers whose cached hits they need are read again, so a warm scan suppresses
/// exactly what a scan without cache does, and the cache still holds no secret afterwards.
final class CacheAllowlistTests: XCTestCase {
    var cacheDir: URL!
    var configDir: URL!
    let reference = "docker-archive:Fixtures/images/legacy.docker.tar" // github-pat (config), private-key-openssh, npm-token

    override func setUpWithError() throws {
        let temporary = FileManager.default.temporaryDirectory
        cacheDir = temporary.appendingPathComponent("residue-cache-allow-\(UUID().uuidString)")
        configDir = temporary.appendingPathComponent("residue-cache-allow-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: configDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: cacheDir)
        try? FileManager.default.removeItem(at: configDir)
    }

    func json(_ result: CLIResult, _ key: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: result.json?[key] ?? [], options: [.sortedKeys])
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    func suppressedRules(_ result: CLIResult) -> [String] {
        (result.json?["suppressed"] as? [[String: Any]] ?? []).compactMap { ($0["finding"] as? [String: Any])?["ruleId"] as? String }
    }

    func testAllowlistsOnTheSecretWorkFromAWarmCache() throws {
        let cold = try CLI.run(["scan", reference, "--format", "json", "--cache-dir", cacheDir.path])
        XCTAssertEqual(cold.status, 1, cold.stderr)
        // Each condition needs more of the secret than its masked form shows (npm_*****, and
        // the key's BEGIN line): only the clear secret can match it.
        let cases: [(String, String)] = [
            ("rules = ['npm-token']\nregexes = ['TsjEi$']", "npm-token"),
            ("stopwords = ['B3BLBNNZAC1RZXKT']", "private-key-openssh"),
            ("regexes = ['^npm_Pv66']\nstopwords = ['nothing-like-this']", "npm-token"),
            ("paths = ['^/root/\\.npmrc$']", "npm-token"), // needs no secret: answered from the cache
        ]
        for (index, (condition, rule)) in cases.enumerated() {
            let config = configDir.appendingPathComponent("allow-\(index).toml")
            try "[[allowlist]]\nreason = \"accepted\"\n\(condition)\n".write(to: config, atomically: true, encoding: .utf8)
            let warm = try CLI.run(["scan", reference, "--format", "json", "--config", config.path, "--cache-dir", cacheDir.path])
            let direct = try CLI.run(["scan", reference, "--format", "json", "--config", config.path, "--no-cache"])
            XCTAssertEqual(warm.status, 1, warm.stderr)
            XCTAssertEqual(warm.stderr, "", condition)
            XCTAssertEqual(suppressedRules(direct), [rule], condition)
            XCTAssertEqual(suppressedRules(warm), [rule], condition)
            XCTAssertEqual(json(warm, "findings"), json(direct, "findings"), condition)
            XCTAssertEqual(json(warm, "suppressed"), json(direct, "suppressed"), condition)
            XCTAssertFalse(warm.stdout.contains("npm_Pv66"), "the report stays redacted")
        }
        // The layers read again were stored again, sealed.
        var bytes = Data()
        for file in FileManager.default.enumerator(at: cacheDir, includingPropertiesForKeys: nil)?.compactMap({ $0 as? URL }) ?? [] {
            bytes += (try? Data(contentsOf: file)) ?? Data()
        }
        XCTAssertGreaterThan(bytes.count, 1000)
        for probe in ["npm_Pv66LrdtfZDpTwGLEpOeKqNO782Oq60TsjEi", "LrdtfZDpTwGL", "b3BlbnNzaC1rZXktdjEAAAAABG5v"] {
            XCTAssertNil(bytes.range(of: Data(probe.utf8)), "a planted secret is in the cache: \(probe.prefix(4))…")
        }
    }
}
