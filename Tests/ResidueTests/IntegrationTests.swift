import Foundation
import XCTest

/// The git pre-push hook against a real bare repository (pushed to over file://), the
/// pre-commit manifest, and the Docker CLI plugin handshake with the real docker client.
final class IntegrationTests: XCTestCase {
    var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("residue-hook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temporary) }

    @discardableResult
    func run(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        for (key, value) in [
            "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": temporary.path, "NO_COLOR": "1",
        ] { env[key] = value }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = temporary.appendingPathComponent("out-\(UUID().uuidString)")
        let err = temporary.appendingPathComponent("err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus,
                         stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func git(_ arguments: [String], in directory: URL) throws -> CLIResult { try run("git", arguments, in: directory) }

    /// A working repository with `origin` a bare repository reached over file://.
    func repository() throws -> (work: URL, remote: URL) {
        let remote = temporary.appendingPathComponent("remote.git")
        let work = temporary.appendingPathComponent("work")
        XCTAssertEqual(try git(["init", "-q", "--bare", remote.path], in: temporary).status, 0)
        XCTAssertEqual(try git(["init", "-q", "-b", "main", work.path], in: temporary).status, 0)
        try git(["remote", "add", "origin", "file://" + remote.path], in: work)
        return (work, remote)
    }

    func remoteHead(_ remote: URL) throws -> String {
        try git(["rev-parse", "--verify", "-q", "refs/heads/main"], in: remote).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func commit(_ files: [String: String], in work: URL, message: String) throws {
        for (path, text) in files {
            let url = work.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try git(["add", "-A"], in: work)
        XCTAssertEqual(try git(["commit", "-q", "-m", message], in: work).status, 0)
    }

    /// Whether this build has the Dockerfile linter (`residue dockerfile`), from its help.
    var hasDockerfileCommand: Bool {
        ((try? CLI.run(["--help"]).stdout) ?? "").split(separator: "\n").contains { $0.hasPrefix("  dockerfile ") }
    }

    func testPrePushHookEndToEnd() throws {
        let (work, remote) = try repository()
        let install = try run(CLI.binary.path, ["hook", "install"], in: work)
        XCTAssertEqual(install.status, 0, install.stderr)
        let hook = try String(contentsOf: work.appendingPathComponent(".git/hooks/pre-push"), encoding: .utf8)
        XCTAssertTrue(hook.contains("# residue pre-push hook") && hook.contains(CLI.binary.resolvingSymlinksInPath().path), hook)

        // A clean push goes through.
        try commit(["README.md": "hello\n"], in: work, message: "first")
        let clean = try git(["push", "origin", "main"], in: work)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertEqual(try remoteHead(remote), try git(["rev-parse", "HEAD"], in: work).stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        // An image configured in .residue.toml with leaks blocks the push, with the fix.
        try FileManager.default.copyItem(at: CLI.packageRoot.appendingPathComponent("Fixtures/images/legacy.docker.tar"),
                                         to: work.appendingPathComponent("app.tar"))
        try commit([".residue.toml": "[hook]\nimages = [\"app.tar\"]\n", "src/app.txt": "v2\n"], in: work, message: "second")
        let before = try remoteHead(remote)
        let blocked = try git(["push", "origin", "main"], in: work)
        XCTAssertNotEqual(blocked.status, 0, "the hook blocks the push")
        XCTAssertEqual(try remoteHead(remote), before, "the remote did not move")
        XCTAssertTrue(blocked.stdout.contains("npm-token") && blocked.stdout.contains("fix:"), "findings with their fix: \(blocked.stdout)")
        XCTAssertTrue(blocked.stderr.contains("push blocked") && blocked.stderr.contains("git push --no-verify"), blocked.stderr)

        // An allowlist entry with its reason lets it through; the counts still say what was allowed.
        try commit([".residue.toml": "[hook]\nimages = [\"app.tar\"]\n\n[[allowlist]]\nreason = \"demo image, keys revoked\"\nlayers = [\"sha256:\"]\npaths = ['.*']\nregexes = ['.*']\n"],
                   in: work, message: "accept")
        let allowed = try git(["push", "origin", "main"], in: work)
        XCTAssertEqual(allowed.status, 0, allowed.stdout + allowed.stderr)
        XCTAssertTrue(allowed.stdout.contains("3 suppressed by .residue.toml"), allowed.stdout)

        // --no-verify bypasses the hook.
        try commit([".residue.toml": "[hook]\nimages = [\"app.tar\"]\n"], in: work, message: "strict again")
        XCTAssertNotEqual(try git(["push", "origin", "main"], in: work).status, 0)
        let bypass = try git(["push", "--no-verify", "origin", "main"], in: work)
        XCTAssertEqual(bypass.status, 0, bypass.stderr)

        // Dockerfiles touched by the pushed commits go to `residue dockerfile`.
        try commit([".residue.toml": "", "deploy/api.Dockerfile": "FROM scratch\nARG NPM_TOKEN\nENV GITHUB_TOKEN=ghp_Q8mXz2Lr5Tn7Vb1Kc4Wd9Yf3Hg6Js0Pa2Re5\nRUN echo $NPM_TOKEN\n",
                    "docs/notes.md": "no dockerfile here\n"], in: work, message: "dockerfile")
        let dockerfile = try git(["push", "origin", "main"], in: work)
        if hasDockerfileCommand {
            XCTAssertNotEqual(dockerfile.status, 0, "a leaky Dockerfile blocks the push: \(dockerfile.stdout)\(dockerfile.stderr)")
            XCTAssertTrue(dockerfile.stderr.contains("Dockerfile deploy/api.Dockerfile"), dockerfile.stderr)
        } else {
            XCTAssertEqual(dockerfile.status, 0, dockerfile.stderr)
            XCTAssertTrue(dockerfile.stderr.contains("1 Dockerfile in this push (deploy/api.Dockerfile) not checked: this residue has no `dockerfile` command yet"), dockerfile.stderr)
        }
    }

    func testHookInstallRespectsForeignHooks() throws {
        let (work, _) = try repository()
        let path = work.appendingPathComponent(".git/hooks/pre-push")
        try "#!/bin/sh\necho team hook\n".write(to: path, atomically: true, encoding: .utf8)
        let refused = try run(CLI.binary.path, ["hook", "install"], in: work)
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(try String(contentsOf: path, encoding: .utf8), "#!/bin/sh\necho team hook\n", "untouched")

        let forced = try run(CLI.binary.path, ["hook", "install", "--force"], in: work)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(try String(contentsOf: path, encoding: .utf8).contains("# residue pre-push hook"))
        XCTAssertEqual(try String(contentsOfFile: path.path + ".residue-backup", encoding: .utf8), "#!/bin/sh\necho team hook\n")
        // Its own hook is rewritten without --force.
        XCTAssertEqual(try run(CLI.binary.path, ["hook", "install"], in: work).status, 0)

        // core.hooksPath is honoured.
        try git(["config", "core.hooksPath", ".githooks"], in: work)
        XCTAssertEqual(try run(CLI.binary.path, ["hook", "install"], in: work).status, 0)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: work.appendingPathComponent(".githooks/pre-push").path))

        let outside = try run(CLI.binary.path, ["hook", "install"], in: temporary)
        XCTAssertEqual(outside.status, 2, "not a git repository")
    }

    func testPreCommitManifest() throws {
        let text = try String(contentsOf: CLI.packageRoot.appendingPathComponent(".pre-commit-hooks.yaml"), encoding: .utf8)
        XCTAssertTrue(text.contains("id: residue-dockerfile"))
        XCTAssertTrue(text.contains("entry: residue dockerfile"))
        // The `files` pattern selects what `residue hook` calls Dockerfiles.
        guard let line = text.split(separator: "\n").first(where: { $0.contains("files:") }) else { return XCTFail("no files pattern") }
        let pattern = line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        let regex = try NSRegularExpression(pattern: pattern)
        func matches(_ path: String) -> Bool { regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil }
        for path in ["Dockerfile", "app/Dockerfile", "Containerfile", "deploy/api.Dockerfile", "Dockerfile.dev", "ci/Dockerfile-test"] {
            XCTAssertTrue(matches(path), path)
        }
        for path in ["README.md", "docs/Dockerfiles.md", "dockerfile_test.go", "Dockerfiles/README"] {
            XCTAssertFalse(matches(path), path)
        }
    }

    /// `docker residue …` with the real docker client: the metadata handshake, help, a scan,
    /// and bare names defaulting to the daemon. No engine is needed for any of it.
    func testDockerCLIPlugin() throws {
        let docker = ["/usr/bin/docker", "/usr/local/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard docker != nil else { throw XCTSkip("docker client not installed") }
        let config = temporary.appendingPathComponent("docker")
        try FileManager.default.createDirectory(at: config.appendingPathComponent("cli-plugins"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: config.appendingPathComponent("cli-plugins/docker-residue"), withDestinationURL: CLI.binary)
        let environment = ["DOCKER_CONFIG": config.path]

        let metadata = try run(CLI.binary.path, ["docker-cli-plugin-metadata"], in: CLI.packageRoot)
        let object = try JSONSerialization.jsonObject(with: Data(metadata.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["SchemaVersion"] as? String, "0.1.0")
        XCTAssertNotNil(object?["ShortDescription"] as? String)

        let listed = try run("docker", ["--help"], in: CLI.packageRoot, environment: environment)
        XCTAssertTrue(listed.stdout.contains("residue*"), "docker lists the plugin: \(listed.stdout)\(listed.stderr)")
        let help = try run("docker", ["residue", "--help"], in: CLI.packageRoot, environment: environment)
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("scan"), help.stdout)

        let scan = try run("docker", ["residue", "scan", "Fixtures/images/legacy.docker.tar", "--format", "json"], in: CLI.packageRoot, environment: environment)
        XCTAssertEqual(scan.status, 1, scan.stderr)
        XCTAssertEqual(((try JSONSerialization.jsonObject(with: Data(scan.stdout.utf8)) as? [String: Any])?["findings"] as? [Any])?.count, 3)

        let daemon = try run("docker", ["residue", "scan", "app:dev"], in: CLI.packageRoot, environment: environment)
        XCTAssertTrue(daemon.stderr.contains("docker-daemon:app:dev"), "a bare name means the daemon: \(daemon.stderr)")
        // Outside docker, a bare name is not a daemon reference.
        XCTAssertTrue(try CLI.run(["scan", "app:dev"]).stderr.contains("unknown transport"))
    }
}
