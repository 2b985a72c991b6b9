import Foundation
import XCTest

/// Helpers shared by the registry tests: run the binary with no proxy for 127.0.0.1 and short
/// retry delays, compare reports.
enum RegistryTestSupport {
    static let environment = ["NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                              "RESIDUE_RETRY_BASE_DELAY": "0.05", "DOCKER_CONFIG": "/nonexistent-residue-test",
                              "REGISTRY_AUTH_FILE": "", "XDG_RUNTIME_DIR": ""]

    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> CLIResult {
        var env = environment
        for (key, value) in extra { env[key] = value }
        return try CLI.run(arguments, environment: env)
    }

    /// Findings as canonical JSON (sorted keys): two scans agree when these are equal.
    static func canonical(_ value: Any?) -> String {
        guard let value, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "nil" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Findings without the layer's blob digest: a registry may store a layer re-encoded
    /// (skopeo fixes the `lying-mediatype` fixture's gzip-that-is-tar), the files in it are the same.
    static func withoutLayerSource(_ value: Any?) -> Any? {
        if let dictionary = value as? [String: Any] {
            var copy: [String: Any] = [:]
            for (key, item) in dictionary where key != "layerDigest" { copy[key] = withoutLayerSource(item) }
            return copy
        }
        if let array = value as? [Any] { return array.map { withoutLayerSource($0) ?? NSNull() } }
        return value
    }

    /// The fixtures stored in the shared OCI layout (`oci:Fixtures/images/oci:NAME`), except
    /// `nested-index` (an index of an index), which skopeo 1.9 refuses to copy.
    static var layoutFixtures: [FixtureScanTests.Fixture] {
        FixtureScanTests.fixtures.filter { $0.reference.hasPrefix("oci:Fixtures/images/oci:") && $0.name != "nested-index" }
    }

    static func refName(_ fixture: FixtureScanTests.Fixture) -> String {
        String(fixture.reference.dropFirst("oci:Fixtures/images/oci:".count))
    }

    static func lines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
}

/// A real registry (Debian's docker-registry) without auth, holding every fixture of the OCI
/// layout: `docker://` scans must report exactly what `oci:` scans report, and an audit must find
/// every planted secret, sharded or not, resumed or not.
final class RegistryScanTests: XCTestCase {
    nonisolated(unsafe) static var registry: LocalRegistry?
    nonisolated(unsafe) static var setupError: Error?

    override class func setUp() {
        super.setUp()
        do {
            let registry = try LocalRegistry(auth: .none)
            for fixture in RegistryTestSupport.layoutFixtures {
                try registry.push(RegistryTestSupport.refName(fixture), as: "fixtures/\(RegistryTestSupport.refName(fixture))")
            }
            // A second tag of one image: an audit reads its layers once.
            try registry.push("copy-rm", as: "fixtures/copy-rm", tag: "1.1")
            self.registry = registry
        } catch {
            setupError = error
        }
    }

    override class func tearDown() {
        registry?.stop()
        registry = nil
        super.tearDown()
    }

    func registryOrFail() throws -> LocalRegistry {
        if let error = Self.setupError { XCTFail("registry setup: \(error)") }
        return try XCTUnwrap(Self.registry)
    }

    func testDockerScansMatchLayoutScans() throws {
        let registry = try registryOrFail()
        XCTAssertGreaterThanOrEqual(RegistryTestSupport.layoutFixtures.count, 10)
        for fixture in RegistryTestSupport.layoutFixtures {
            let name = RegistryTestSupport.refName(fixture)
            let local = try RegistryTestSupport.run(["scan", fixture.reference, "--format", "json", "--show-secrets"])
            let remote = try RegistryTestSupport.run(["scan", "docker://\(registry.host)/fixtures/\(name):latest",
                                                      "--tls-verify=false", "--format", "json", "--show-secrets"])
            XCTAssertEqual(remote.stderr, "", name)
            XCTAssertEqual(remote.status, local.status, "\(name): exit status")
            XCTAssertEqual(RegistryTestSupport.canonical(RegistryTestSupport.withoutLayerSource(remote.json?["findings"])),
                           RegistryTestSupport.canonical(RegistryTestSupport.withoutLayerSource(local.json?["findings"])),
                           "\(name): findings differ")
            XCTAssertEqual(RegistryTestSupport.canonical(remote.json?["summary"]), RegistryTestSupport.canonical(local.json?["summary"]),
                           "\(name): summary differs")
            XCTAssertEqual((remote.json?["target"] as? [String: Any])?["transport"] as? String, "docker")
        }
    }

    func testDigestReferenceAndErrors() throws {
        let registry = try registryOrFail()
        let byTag = try RegistryTestSupport.run(["scan", "docker://\(registry.host)/fixtures/env", "--tls-verify=false", "--format", "json"])
        XCTAssertEqual(byTag.status, 1)
        let images = (byTag.json?["target"] as? [String: Any])?["images"] as? [[String: Any]] ?? []
        let manifest = try XCTUnwrap(images.first?["manifestDigest"] as? String)
        let byDigest = try RegistryTestSupport.run(["scan", "docker://\(registry.host)/fixtures/env@\(manifest)", "--tls-verify=false", "--format", "json"])
        XCTAssertEqual(byDigest.status, 1, byDigest.stderr)
        XCTAssertEqual(RegistryTestSupport.canonical(byDigest.json?["findings"]), RegistryTestSupport.canonical(byTag.json?["findings"]))

        let missing = try RegistryTestSupport.run(["scan", "docker://\(registry.host)/fixtures/nope:latest", "--tls-verify=false"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("fixtures/nope") && missing.stderr.contains("404"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1)

        // TLS by default: a plain-http registry is refused with a hint, never silently downgraded.
        let tls = try RegistryTestSupport.run(["scan", "docker://\(registry.host)/fixtures/env"])
        XCTAssertEqual(tls.status, 2)
        XCTAssertTrue(tls.stderr.contains("--tls-verify=false"), tls.stderr)
    }

    /// Every planted secret of every layout fixture is in the audit's report; each unique layer
    /// was read once.
    func testAuditFindsEveryPlantedSecret() throws {
        let registry = try registryOrFail()
        let result = try RegistryTestSupport.run(["audit", registry.host, "--tls-verify=false", "--show-secrets", "--concurrency", "3"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let lines = RegistryTestSupport.lines(result.stdout)
        let records = lines.filter { $0["type"] as? String == "image" }
        let summary = try XCTUnwrap(lines.last)
        XCTAssertEqual(summary["type"] as? String, "summary")
        XCTAssertEqual(summary["complete"] as? Bool, true)
        XCTAssertEqual(records.count, RegistryTestSupport.layoutFixtures.count + 1)
        for fixture in RegistryTestSupport.layoutFixtures {
            let name = RegistryTestSupport.refName(fixture)
            guard let record = records.first(where: { $0["repository"] as? String == "fixtures/\(name)" && $0["tag"] as? String == "latest" }) else {
                XCTFail("\(name): not in the audit")
                continue
            }
            XCTAssertEqual(record["status"] as? String, "scanned", "\(name): \(record["error"] ?? "")")
            let findings = (record["report"] as? [String: Any])?["findings"] as? [[String: Any]] ?? []
            if fixture.clean { XCTAssertTrue(findings.isEmpty, "\(name) is clean") }
            for planted in fixture.planted {
                let accepted = [planted["ruleId"] as? String].compactMap { $0 } + (planted["alsoAcceptedRuleIds"] as? [String] ?? [])
                let secret = planted["secret"] as? String ?? "?"
                XCTAssertTrue(findings.contains { accepted.contains($0["ruleId"] as? String ?? "")
                    && (($0["secret"] as? String)?.contains(secret) ?? false || secret.contains($0["secret"] as? String ?? "-")) },
                              "\(name): planted \(planted["ruleId"] ?? "") not found by the audit")
            }
        }
        // Layers: each unique digest walked once, however many images share it.
        var digests = Set<String>()
        for record in records {
            let images = ((record["report"] as? [String: Any])?["target"] as? [String: Any])?["images"] as? [[String: Any]] ?? []
            for image in images { for layer in image["layers"] as? [[String: Any]] ?? [] { digests.insert(layer["digest"] as? String ?? "") } }
        }
        XCTAssertEqual(summary["layersWalked"] as? Int, digests.count)
        XCTAssertGreaterThan(summary["layersReused"] as? Int ?? 0, 0)
    }

    /// N shards merged equal one unsharded run (both merged, so both are sorted the same way);
    /// --shard N takes its index from JOB_COMPLETION_INDEX; a missing shard makes the merge incomplete.
    func testShardsMergedEqualOneRun() throws {
        let registry = try registryOrFail()
        let folder = TemporaryFolder("residue-shards")
        let base = ["audit", registry.host, "--tls-verify=false", "--repo", "fixtures/*"]
        let whole = try RegistryTestSupport.run(base + ["--output", folder.file("whole.jsonl")])
        XCTAssertEqual(whole.status, 1, whole.stderr)
        var shardFiles: [String] = []
        var shardImages = 0
        for index in 0..<3 {
            let file = folder.file("shard\(index).jsonl")
            let arguments = index == 1 ? base + ["--shard", "3", "--output", file] : base + ["--shard", "\(index)/3", "--output", file]
            let shard = try RegistryTestSupport.run(arguments, environment: index == 1 ? ["JOB_COMPLETION_INDEX": "1"] : [:])
            XCTAssertTrue([0, 1].contains(shard.status), shard.stderr)
            let lines = RegistryTestSupport.lines((try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
            XCTAssertEqual(lines.last?["shard"] as? String, "\(index)/3")
            shardImages += lines.filter { $0["type"] as? String == "image" }.count
            shardFiles.append(file)
        }
        XCTAssertEqual(shardImages, RegistryTestSupport.layoutFixtures.count + 1)
        let mergedShards = try RegistryTestSupport.run(["report", "merge"] + shardFiles)
        let mergedWhole = try RegistryTestSupport.run(["report", "merge", folder.file("whole.jsonl")])
        XCTAssertEqual(mergedShards.status, 1, mergedShards.stderr)
        XCTAssertEqual(mergedWhole.status, 1, mergedWhole.stderr)
        XCTAssertFalse(mergedShards.stdout.isEmpty)
        XCTAssertEqual(mergedShards.stdout, mergedWhole.stdout, "merged shards differ from one run")

        let partial = try RegistryTestSupport.run(["report", "merge", shardFiles[0], shardFiles[2]])
        XCTAssertEqual(partial.status, 2, "a merge missing shard 1 must not claim completeness")
        XCTAssertEqual(RegistryTestSupport.lines(partial.stdout).last?["complete"] as? Bool, false)
    }

    /// An interrupted audit (its report cut after a few images, mid-line) resumes without
    /// rescanning finished images, and ends with the same report.
    func testResumeSkipsFinishedImages() throws {
        let registry = try registryOrFail()
        let folder = TemporaryFolder("residue-resume")
        let base = ["audit", registry.host, "--tls-verify=false", "--repo", "fixtures/*", "--concurrency", "1"]
        let first = try RegistryTestSupport.run(base + ["--output", folder.file("first.jsonl")])
        XCTAssertEqual(first.status, 1, first.stderr)
        let text = try String(contentsOfFile: folder.file("first.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let cut = lines.prefix(4).joined(separator: "\n") + "\n" + lines[4].prefix(40)
        try cut.write(toFile: folder.file("cut.jsonl"), atomically: true, encoding: .utf8)
        let cutMerge = try RegistryTestSupport.run(["report", "merge", folder.file("cut.jsonl")])
        XCTAssertEqual(cutMerge.status, 2, "an interrupted report is incomplete")

        let resumed = try RegistryTestSupport.run(base + ["--resume", folder.file("cut.jsonl"), "--output", folder.file("second.jsonl")])
        XCTAssertEqual(resumed.status, 1, resumed.stderr)
        let summary = RegistryTestSupport.lines(try String(contentsOfFile: folder.file("second.jsonl"), encoding: .utf8)).last
        XCTAssertEqual(summary?["imagesResumed"] as? Int, 4)
        XCTAssertEqual(summary?["complete"] as? Bool, true)
        let a = try RegistryTestSupport.run(["report", "merge", folder.file("first.jsonl")])
        let b = try RegistryTestSupport.run(["report", "merge", folder.file("second.jsonl")])
        XCTAssertEqual(a.stdout, b.stdout)
    }

    /// A second audit with the same layer cache reads no layer from the registry and reports the
    /// same findings (redacted; the cache holds no secret in clear); --no-cache reads them again.
    func testSecondAuditIsAnsweredByTheLayerCache() throws {
        let registry = try registryOrFail()
        let folder = TemporaryFolder("residue-audit-cache")
        let base = ["audit", registry.host, "--tls-verify=false", "--repo", "fixtures/*", "--cache-dir", folder.file("cache")]
        let first = try RegistryTestSupport.run(base + ["--output", folder.file("first.jsonl")])
        XCTAssertEqual(first.status, 1, first.stderr)
        let second = try RegistryTestSupport.run(base + ["--output", folder.file("second.jsonl")])
        XCTAssertEqual(second.status, 1, second.stderr)
        let firstSummary = try XCTUnwrap(RegistryTestSupport.lines(try String(contentsOfFile: folder.file("first.jsonl"), encoding: .utf8)).last)
        let secondSummary = try XCTUnwrap(RegistryTestSupport.lines(try String(contentsOfFile: folder.file("second.jsonl"), encoding: .utf8)).last)
        let walked = try XCTUnwrap(firstSummary["layersWalked"] as? Int)
        XCTAssertGreaterThan(walked, 0)
        XCTAssertEqual(firstSummary["layersFromCache"] as? Int, 0)
        XCTAssertEqual(secondSummary["layersWalked"] as? Int, 0)
        XCTAssertEqual(secondSummary["layersFromCache"] as? Int, walked)
        let a = try RegistryTestSupport.run(["report", "merge", folder.file("first.jsonl")])
        let b = try RegistryTestSupport.run(["report", "merge", folder.file("second.jsonl")])
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertGreaterThan(a.stdout.count, 1000)
        let uncached = try RegistryTestSupport.run(base + ["--no-cache"])
        XCTAssertEqual(RegistryTestSupport.lines(uncached.stdout).last?["layersWalked"] as? Int, walked)
    }
}

/// Authentication against real registries: htpasswd (Basic) and token auth (Bearer JWTs from a
/// test issuer, validated by the registry).
final class RegistryAuthTests: XCTestCase {
    func basicAuth() -> String {
        Data("\(LocalRegistry.user):\(LocalRegistry.password)".utf8).base64EncodedString()
    }

    func testHtpasswdRegistry() throws {
        let registry = try LocalRegistry(auth: .htpasswd)
        defer { registry.stop() }
        try registry.push("build-arg", as: "private/app")
        let image = "docker://\(registry.host)/private/app:latest"
        let expected = try RegistryTestSupport.run(["scan", "oci:Fixtures/images/oci:build-arg", "--format", "json"])

        let anonymous = try RegistryTestSupport.run(["scan", image, "--tls-verify=false"])
        XCTAssertEqual(anonymous.status, 2)
        XCTAssertTrue(anonymous.stderr.contains("authentication") && anonymous.stderr.contains("private/app"), anonymous.stderr)

        let wrong = try RegistryTestSupport.run(["scan", image, "--tls-verify=false", "--creds", "\(LocalRegistry.user):wrong"])
        XCTAssertEqual(wrong.status, 2)

        let withCreds = try RegistryTestSupport.run(["scan", image, "--tls-verify=false", "--creds", "\(LocalRegistry.user):\(LocalRegistry.password)", "--format", "json"])
        XCTAssertEqual(withCreds.status, 1, withCreds.stderr)
        XCTAssertEqual(RegistryTestSupport.canonical(withCreds.json?["findings"]), RegistryTestSupport.canonical(expected.json?["findings"]))
        XCTAssertFalse(withCreds.stdout.contains(LocalRegistry.password) || withCreds.stderr.contains(LocalRegistry.password))

        // --dockerfile works on what the scan resolved: the registry flags (plain http,
        // credentials) apply to it too, instead of a second opening with default settings.
        let attributed = try RegistryTestSupport.run(["scan", image, "--tls-verify=false", "--creds", "\(LocalRegistry.user):\(LocalRegistry.password)",
                                                      "--dockerfile", "Fixtures/dockerfiles/build-arg/Dockerfile", "--format", "json"])
        XCTAssertEqual(attributed.status, 1, attributed.stderr)
        let match = (attributed.json?["dockerfile"] as? [String: Any])?["images"] as? [[String: Any]]
        XCTAssertEqual(match?.first?["matched"] as? Bool, true, attributed.stdout)
        XCTAssertTrue(attributed.findings.contains { (($0["location"] as? [String: Any])?["dockerfile"] as? [String: Any])?["line"] != nil },
                      attributed.stdout)

        // Docker's config.json (auths → base64 user:password) and REGISTRY_AUTH_FILE.
        let folder = TemporaryFolder("residue-dockerconfig")
        let config = "{\"auths\": {\"\(registry.host)\": {\"auth\": \"\(basicAuth())\"}}}"
        try config.write(toFile: folder.file("config.json"), atomically: true, encoding: .utf8)
        let fromDockerConfig = try RegistryTestSupport.run(["scan", image, "--tls-verify=false", "--format", "json"],
                                                           environment: ["DOCKER_CONFIG": folder.path])
        XCTAssertEqual(fromDockerConfig.status, 1, fromDockerConfig.stderr)
        let fromAuthFile = try RegistryTestSupport.run(["scan", image, "--tls-verify=false"],
                                                       environment: ["REGISTRY_AUTH_FILE": folder.file("config.json")])
        XCTAssertEqual(fromAuthFile.status, 1, fromAuthFile.stderr)

        // A credential helper named by credHelpers.
        let helper = folder.file("docker-credential-residuetest")
        try "#!/bin/sh\nread server\necho '{\"ServerURL\":\"'$server'\",\"Username\":\"\(LocalRegistry.user)\",\"Secret\":\"\(LocalRegistry.password)\"}'\n"
            .write(toFile: helper, atomically: true, encoding: .utf8)
        chmod(helper, 0o755)
        let helperFolder = TemporaryFolder("residue-credhelper")
        try "{\"credHelpers\": {\"\(registry.host)\": \"residuetest\"}}".write(toFile: helperFolder.file("config.json"), atomically: true, encoding: .utf8)
        let fromHelper = try RegistryTestSupport.run(["scan", image, "--tls-verify=false"],
                                                     environment: ["DOCKER_CONFIG": helperFolder.path,
                                                                   "PATH": folder.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        XCTAssertEqual(fromHelper.status, 1, fromHelper.stderr)
    }

    func testTokenAuthRegistry() throws {
        let registry = try LocalRegistry(auth: .token)
        defer { registry.stop() }
        try registry.push("copy-rm", as: "team/app")
        let image = "docker://\(registry.host)/team/app:latest"
        let expected = try RegistryTestSupport.run(["scan", "oci:Fixtures/images/oci:copy-rm", "--format", "json"])

        let anonymous = try RegistryTestSupport.run(["scan", image, "--tls-verify=false"])
        XCTAssertEqual(anonymous.status, 2, "the test issuer grants nothing to anonymous clients")

        let issuedBefore = registry.issuer?.issued ?? 0
        let withCreds = try RegistryTestSupport.run(["scan", image, "--tls-verify=false", "--creds", "\(LocalRegistry.user):\(LocalRegistry.password)", "--format", "json"])
        XCTAssertEqual(withCreds.status, 1, withCreds.stderr)
        XCTAssertEqual(RegistryTestSupport.canonical(withCreds.json?["findings"]), RegistryTestSupport.canonical(expected.json?["findings"]))
        XCTAssertGreaterThan(registry.issuer?.issued ?? 0, issuedBefore)

        // The audit needs the catalog scope too.
        let audit = try RegistryTestSupport.run(["audit", registry.host, "--tls-verify=false", "--creds", "\(LocalRegistry.user):\(LocalRegistry.password)"])
        XCTAssertEqual(audit.status, 1, audit.stderr)
        let lines = RegistryTestSupport.lines(audit.stdout)
        XCTAssertEqual(lines.filter { $0["type"] as? String == "image" }.map { $0["repository"] as? String }, ["team/app"])
    }
}

/// A proxy in front of the real registry injects 429/503, resets and truncated bodies: the scan
/// retries (honouring Retry-After, resuming blobs with Range) and reports exactly what a clean
/// pull reports; when the faults do not stop, it fails with one line naming repository and digest.
final class RegistryFaultTests: XCTestCase {
    func testTransientFaultsAreRetried() throws {
        let registry = try LocalRegistry(auth: .none)
        defer { registry.stop() }
        try registry.push("copy-rm", as: "faulty/app")
        let proxy = try FaultProxy(upstream: registry.port)
        defer { proxy.stop() }
        let direct = try RegistryTestSupport.run(["scan", "docker://\(registry.host)/faulty/app", "--tls-verify=false", "--format", "json"])
        XCTAssertEqual(direct.status, 1, direct.stderr)

        proxy.add(.status(429, retryAfter: 1), on: "/manifests/")
        proxy.add(.status(503, retryAfter: nil), on: "/blobs/", times: 2)
        proxy.add(.reset, on: "/blobs/")
        proxy.add(.truncate, on: "/blobs/", times: 2)
        let started = Date()
        let faulty = try RegistryTestSupport.run(["scan", "docker://127.0.0.1:\(proxy.port)/faulty/app", "--tls-verify=false", "--format", "json"])
        XCTAssertEqual(faulty.status, 1, faulty.stderr)
        XCTAssertEqual(faulty.stderr, "")
        XCTAssertEqual(proxy.injectedCount, 6)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.0, "Retry-After: 1 was honoured")
        XCTAssertEqual(RegistryTestSupport.canonical(faulty.json?["findings"]), RegistryTestSupport.canonical(direct.json?["findings"]))
        XCTAssertEqual(RegistryTestSupport.canonical(faulty.json?["summary"]), RegistryTestSupport.canonical(direct.json?["summary"]))
        XCTAssertTrue(proxy.requests.contains { $0.range != nil }, "a cut blob is resumed with Range")
    }

    func testPersistentFaultFailsWithOneLine() throws {
        let registry = try LocalRegistry(auth: .none)
        defer { registry.stop() }
        try registry.push("copy-rm", as: "faulty/app")
        let proxy = try FaultProxy(upstream: registry.port)
        defer { proxy.stop() }
        let direct = try RegistryTestSupport.run(["scan", "docker://\(registry.host)/faulty/app", "--tls-verify=false", "--format", "json"])
        let layers = ((direct.json?["target"] as? [String: Any])?["images"] as? [[String: Any]])?.first?["layers"] as? [[String: Any]] ?? []
        let digest = try XCTUnwrap(layers.last?["digest"] as? String)

        proxy.add(.status(503, retryAfter: nil), on: "/blobs/\(digest)", times: 1000)
        let failed = try RegistryTestSupport.run(["scan", "docker://127.0.0.1:\(proxy.port)/faulty/app", "--tls-verify=false", "--retries", "3"])
        XCTAssertEqual(failed.status, 2)
        XCTAssertEqual(failed.stdout, "", "no partial report")
        XCTAssertEqual(failed.stderr.split(separator: "\n").count, 1, failed.stderr)
        XCTAssertTrue(failed.stderr.contains("faulty/app") && failed.stderr.contains(digest) && failed.stderr.contains("503"), failed.stderr)

        proxy.clear()
        proxy.add(.truncate, on: "/blobs/\(digest)", times: 1000)
        let truncated = try RegistryTestSupport.run(["scan", "docker://127.0.0.1:\(proxy.port)/faulty/app", "--tls-verify=false", "--retries", "3"])
        XCTAssertEqual(truncated.status, 2)
        XCTAssertTrue(truncated.stderr.contains(digest), truncated.stderr)

        // In an audit, the image fails, the others are reported, the summary says incomplete.
        let audit = try RegistryTestSupport.run(["audit", "127.0.0.1:\(proxy.port)", "--tls-verify=false", "--retries", "2"])
        XCTAssertEqual(audit.status, 2)
        let summary = RegistryTestSupport.lines(audit.stdout).last
        XCTAssertEqual(summary?["complete"] as? Bool, false)
        XCTAssertEqual(summary?["failed"] as? Int, 1)
    }

    /// Blob storage redirects: the registry's credentials never go to the other host.
    func testCredentialsStayOnTheRegistryHost() throws {
        let registry = try LocalRegistry(auth: .htpasswd)
        defer { registry.stop() }
        try registry.push("env", as: "private/env")
        let proxy = try FaultProxy(upstream: registry.port)
        defer { proxy.stop() }
        proxy.storageAuthorization = "Basic " + Data("\(LocalRegistry.user):\(LocalRegistry.password)".utf8).base64EncodedString()
        proxy.add(.redirect, on: "/blobs/", times: 1000)
        let result = try RegistryTestSupport.run(["scan", "docker://127.0.0.1:\(proxy.port)/private/env", "--tls-verify=false",
                                                  "--creds", "\(LocalRegistry.user):\(LocalRegistry.password)"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let redirected = proxy.requests.filter(\.viaRedirect)
        XCTAssertFalse(redirected.isEmpty)
        XCTAssertTrue(redirected.allSatisfy { $0.authorization == nil }, "credentials followed a redirect to another host")
        XCTAssertTrue(proxy.requests.contains { !$0.viaRedirect && $0.path.contains("/blobs/") && $0.authorization != nil })
    }
}
