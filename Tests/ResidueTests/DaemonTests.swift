import Foundation
@testable import ResidueArchive
@testable import ResidueImage
import XCTest

/// `docker-daemon:` against podman's Docker-compatible API (`podman system service` on a unix
/// socket in a temp folder, with private storage: the host's containers are never touched).
final class DaemonTests: XCTestCase {
    func testScanThroughPodmanSocket() throws {
        let folder = TemporaryFolder("residue-podman")
        let podman = ["podman", "--root", folder.file("root"), "--runroot", folder.file("run"), "--storage-driver", "vfs",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", folder.file("tmp"), "--log-level", "error"]
        try FileManager.default.createDirectory(atPath: folder.file("tmp"), withIntermediateDirectories: true)
        let socket = folder.file("podman.sock")
        let service = try Background(podman + ["system", "service", "--time=0", "unix://\(socket)"], log: folder.file("service.log"))
        defer { service.stop() }

        // An image loaded from a docker save archive, and one built by podman.
        let loaded = try Tools.run(podman + ["load", "-i", CLI.packageRoot.appendingPathComponent("Fixtures/images/legacy.docker.tar").path])
        XCTAssertEqual(loaded.status, 0, loaded.output)
        let context = folder.file("context")
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        let token = "npm_" + String((0..<36).map { _ in "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement()! })
        try "//registry.npmjs.org/:_authToken=\(token)\n".write(toFile: context + "/.npmrc", atomically: true, encoding: .utf8)
        try "FROM scratch\nCOPY .npmrc /root/.npmrc\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try Tools.run(podman + ["build", "--isolation", "chroot", "-q", "-t", "localhost/residue-test/built:dev", context])
        XCTAssertEqual(built.status, 0, built.output)

        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket), service.log)
        let environment = ["DOCKER_HOST": "unix://\(socket)", "NO_PROXY": "*"]

        let archive = try CLI.run(["scan", "docker-archive:Fixtures/images/legacy.docker.tar", "--format", "json"])
        let daemon = try CLI.run(["scan", "docker-daemon:residue/copy-rm:latest", "--format", "json"], environment: environment)
        XCTAssertEqual(daemon.stderr, "")
        XCTAssertEqual(daemon.status, 1)
        XCTAssertEqual(RegistryTestSupport.canonical(daemon.json?["findings"]), RegistryTestSupport.canonical(archive.json?["findings"]))
        XCTAssertEqual(RegistryTestSupport.canonical(daemon.json?["summary"]), RegistryTestSupport.canonical(archive.json?["summary"]))

        let fromBuild = try CLI.run(["scan", "docker-daemon:localhost/residue-test/built:dev", "--format", "json", "--show-secrets"], environment: environment)
        XCTAssertEqual(fromBuild.status, 1, fromBuild.stderr)
        XCTAssertTrue(fromBuild.findings.contains { $0["ruleId"] as? String == "npm-token" && ($0["secret"] as? String)?.contains(token) == true },
                      "\(fromBuild.findings)")

        // --dockerfile lines the streamed image up with its Dockerfile without exporting it again.
        let attributed = try CLI.run(["scan", "docker-daemon:localhost/residue-test/built:dev", "--dockerfile", context + "/Dockerfile",
                                      "--format", "json"], environment: environment)
        XCTAssertEqual(attributed.status, 1, attributed.stderr)
        let match = (attributed.json?["dockerfile"] as? [String: Any])?["images"] as? [[String: Any]]
        XCTAssertEqual(match?.first?["matched"] as? Bool, true, attributed.stdout)
        let npm = attributed.findings.first { $0["ruleId"] as? String == "npm-token" }
        XCTAssertEqual(((npm?["location"] as? [String: Any])?["dockerfile"] as? [String: Any])?["line"] as? Int, 2, "\(npm ?? [:])")

        let missing = try CLI.run(["scan", "docker-daemon:residue/none:latest"], environment: environment)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no such image"), missing.stderr)
        let noDaemon = try CLI.run(["scan", "docker-daemon:residue/copy-rm"], environment: ["DOCKER_HOST": "unix://\(folder.file("absent.sock"))"])
        XCTAssertEqual(noDaemon.status, 2)
        XCTAssertTrue(noDaemon.stderr.contains("cannot reach the Docker daemon"), noDaemon.stderr)
    }
}

/// The one-pass docker-archive reader: layers attributed once manifest.json (at the end) is read,
/// verified against diff_ids; a cut stream fails.
final class StreamedArchiveTests: XCTestCase {
    func stream(_ path: String, limit: Int64? = nil) throws -> FileRangeSource {
        let file = try SharedFile(path: CLI.packageRoot.appendingPathComponent(path).path)
        return FileRangeSource(file: file, offset: 0, length: limit ?? file.size)
    }

    func testStreamMatchesRandomAccessReader() throws {
        for path in ["Fixtures/images/legacy.docker.tar", "Fixtures/images/docker25.docker.tar", "Fixtures/images/build-arg.docker.tar"] {
            var visited = 0
            let (images, layers) = try StreamedDockerArchive(what: path, selector: nil).read(try stream(path), platform: nil) { source, _ in
                visited += 1
                try source.drain()
                return visited
            }
            let reference = try DockerArchiveSource(store: TarStore(path: CLI.packageRoot.appendingPathComponent(path).path), reference: nil).resolve(platform: nil)
            XCTAssertEqual(images.map(\.configDigest), reference.map(\.configDigest), path)
            XCTAssertEqual(images.first?.layers.map(\.digest), reference.first?.layers.map(\.digest), path)
            for layer in images.first?.layers ?? [] { XCTAssertNotNil(layers[layer.digest], "\(path): \(layer.digest) not visited") }
        }
    }

    func testCutStreamFails() throws {
        let path = "Fixtures/images/legacy.docker.tar"
        let size = try SharedFile(path: CLI.packageRoot.appendingPathComponent(path).path).size
        XCTAssertThrowsError(try StreamedDockerArchive(what: path, selector: nil).read(try stream(path, limit: size / 2), platform: nil) { source, _ in
            try source.drain()
        })
    }
}

final class RegistryUnitTests: XCTestCase {
    func testDockerHubNormalisation() throws {
        let alpine = try RegistryReference.parse("alpine")
        XCTAssertEqual(alpine.registry, "docker.io")
        XCTAssertEqual(alpine.apiHost, "registry-1.docker.io")
        XCTAssertEqual(alpine.repository, "library/alpine")
        XCTAssertEqual(alpine.tag, "latest")
        let user = try RegistryReference.parse("docker://bitnami/redis:7.2")
        XCTAssertEqual(user.repository, "bitnami/redis")
        XCTAssertEqual(user.tag, "7.2")
        let local = try RegistryReference.parse("localhost:5000/team/app@sha256:" + String(repeating: "a", count: 64))
        XCTAssertEqual(local.registry, "localhost:5000")
        XCTAssertEqual(local.repository, "team/app")
        XCTAssertEqual(local.manifestReference, "sha256:" + String(repeating: "a", count: 64))
        XCTAssertEqual(try RegistryReference.parse("index.docker.io/library/busybox").registry, "docker.io")
        XCTAssertThrowsError(try RegistryReference.parse("Upper/Case"))
    }

    func testChallengeAndLinkParsing() {
        let parsed = RegistryClient.parseChallenge(#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#)
        XCTAssertEqual(parsed?.scheme, "bearer")
        XCTAssertEqual(parsed?.parameters["scope"], "repository:a/b:pull,push")
        XCTAssertEqual(parsed?.parameters["realm"], "https://auth.example.com/token")
        XCTAssertEqual(RegistryClient.parseChallenge(#"Basic realm="x""#)?.scheme, "basic")
        XCTAssertEqual(RegistryClient.nextLink(#"</v2/_catalog?last=b&n=2>; rel="next""#), "/v2/_catalog?last=b&n=2")
        XCTAssertNil(RegistryClient.nextLink(nil))
        XCTAssertEqual(RegistryClient.origin(of: "https://Registry.example.com/v2/"), "https://registry.example.com:443")
        XCTAssertNotEqual(RegistryClient.origin(of: "http://127.0.0.1:5000/a"), RegistryClient.origin(of: "http://127.0.0.1:5001/a"))
    }

    func testRetryAfter() {
        XCTAssertEqual(RetryPolicy.parseRetryAfter("3"), 3)
        XCTAssertNil(RetryPolicy.parseRetryAfter(nil))
        var policy = RetryPolicy()
        policy.maximumDelay = 10
        XCTAssertEqual(policy.delay(afterAttempt: 1, retryAfter: 120), 10)
        XCTAssertEqual(policy.delay(afterAttempt: 3), 2)
    }

    func testCredentialFiles() throws {
        var store = CredentialStore(settings: RegistrySettings())
        store.environment = [:]
        let auth = Data("me:pa:ss".utf8).base64EncodedString()
        let json: [String: Any] = ["auths": ["https://index.docker.io/v1/": ["auth": auth], "reg.example.com": ["username": "u", "password": "p"]]]
        XCTAssertEqual(try store.credentials(in: json, for: "docker.io", file: "x"), .init(username: "me", password: "pa:ss"))
        XCTAssertEqual(try store.credentials(in: json, for: "reg.example.com", file: "x"), .init(username: "u", password: "p"))
        XCTAssertNil(try store.credentials(in: json, for: "other.example.com", file: "x"))
    }
}
