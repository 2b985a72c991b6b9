import Foundation
import XCTest

/// The proof of `residue dockerfile --portable --fix`: each leaky fixture Dockerfile, fixed,
/// still builds with buildah, the build still gets its secret (its RUN steps check it:
/// `test -n "$GITHUB_TOKEN"`, `test -s /root/.ssh/id_ed25519`, `grep -q _authToken /root/.npmrc`),
/// and `residue scan` of the image finds nothing. buildah runs with a private root in a temp
/// folder; the base image comes from the committed OCI layout (no rebuild).
final class DockerfileFixProofTests: XCTestCase {
    /// Fixtures whose leaks the fixer rewrites. The others (credential-files, overwritten, nested, …)
    /// ship credential files no RUN reads: --fix leaves them and says why (checked below).
    static let fixable = ["build-arg", "copy-rm", "env", "buildkit", "clean-multistage"]

    @discardableResult
    func run(_ tool: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            XCTFail("\(tool) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)):\n\(log.suffix(3000))")
            throw CocoaError(.executableLoad)
        }
        return log
    }

    func testFixedFixturesBuildAndScanClean() throws {
        try XCTSkipUnless(getuid() == 0, "buildah --isolation chroot needs root (CI runs as root)")
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("residue-fixproof-\(UUID().uuidString)")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        let storage = "--root=\(work.path)/storage", runroot = "--runroot=\(work.path)/run"
        let store = "containers-storage:[vfs@\(work.path)/storage+\(work.path)/run]"
        let fixtures = CLI.packageRoot.appendingPathComponent("Fixtures")
        try run("skopeo", ["copy", "-q", "oci:\(fixtures.path)/images/oci:base", store + "localhost/residue-base:latest"])

        for name in Self.fixable {
            let context = work.appendingPathComponent("ctx/\(name)")
            try fm.createDirectory(at: context.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: fixtures.appendingPathComponent("dockerfiles/\(name)"), to: context)
            let dockerfile = context.appendingPathComponent("Dockerfile").path

            let before = try CLI.run(["dockerfile", dockerfile, "--format", "json"])
            XCTAssertEqual(before.status, 1, "\(name): the original leaks")
            let fix = try CLI.run(["dockerfile", dockerfile, "--portable", "--fix", "--format", "json"])
            XCTAssertEqual(fix.status, 0, "\(name): everything fixed: \(fix.stdout)")
            let after = try CLI.run(["dockerfile", dockerfile])
            XCTAssertEqual(after.status, 0, "\(name): the fixed Dockerfile lints clean:\n\(after.stdout)")

            // the secrets the build needs, as files (buildah 1.28 has no env= secrets)
            let flags = ((fix.json?["fix"] as? [String: Any])?["buildFlags"] as? [String]) ?? []
            var values: [String: String] = [:]
            if let text = try? String(contentsOf: context.appendingPathComponent("build-args.env"), encoding: .utf8) {
                for line in text.split(separator: "\n") where line.contains("=") {
                    let parts = line.split(separator: "=", maxSplits: 1)
                    values[String(parts[0])] = String(parts[1])
                }
            }
            var buildArguments: [String] = []
            for flag in flags {
                let spec = flag.replacingOccurrences(of: "--secret ", with: "")
                let fields = Dictionary(uniqueKeysWithValues: spec.split(separator: ",").map { part -> (String, String) in
                    let pair = part.split(separator: "=", maxSplits: 1); return (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
                })
                guard let id = fields["id"] else { XCTFail("\(name): unexpected build flag \(flag)"); continue }
                if let variable = fields["env"] {
                    let file = work.appendingPathComponent("secret-\(name)-\(id)")
                    try Data((values[variable] ?? "").utf8).write(to: file)
                    XCTAssertNotNil(values[variable], "\(name): a value for \(variable)")
                    buildArguments += ["--secret", "id=\(id),src=\(file.path)"]
                } else if let source = fields["src"] {
                    buildArguments += ["--secret", "id=\(id),src=\(context.appendingPathComponent(source).path)"]
                }
            }
            try run("buildah", [storage, runroot, "--storage-driver=vfs", "bud", "--layers", "--timestamp", "0", "--isolation", "chroot",
                                "--pull=never", "--quiet"] + buildArguments + ["-f", dockerfile, "-t", "localhost/fixed/\(name):latest", context.path])
            try run("skopeo", ["copy", "-q", store + "localhost/fixed/\(name):latest", "oci:\(work.path)/out:\(name)"])
            let scan = try CLI.run(["scan", "oci:\(work.path)/out:\(name)", "--format", "json"])
            XCTAssertEqual(scan.status, 0, "\(name): the fixed image is clean: \(scan.findings.map { $0["ruleId"] ?? "" })")
            XCTAssertEqual(scan.findings.count, 0)
        }
    }

    /// Fixtures whose credential files are meant to ship (or come in through a folder): --fix
    /// does not pretend, it names each leak it left and why, and the exit code stays 1.
    func testFixSaysWhatItCannotFix() throws {
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("residue-fixleft-\(UUID().uuidString)")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        for name in ["credential-files", "overwritten", "label-cmd"] {
            let context = work.appendingPathComponent(name)
            try fm.copyItem(at: CLI.packageRoot.appendingPathComponent("Fixtures/dockerfiles/\(name)"), to: context)
            let result = try CLI.run(["dockerfile", context.appendingPathComponent("Dockerfile").path, "--diff"])
            XCTAssertEqual(result.status, 1, "\(name): leaks remain")
            XCTAssertTrue(result.stderr.contains("not fixed: line"), "\(name): \(result.stderr)")
        }
    }
}

/// `residue dockerfile` and `residue scan --dockerfile` through the real binary.
final class DockerfileCLITests: XCTestCase {
    /// Lint findings come as text or JSON; a scan-only format is refused, not answered with text.
    func testScanOnlyFormatsAreRefused() throws {
        for format in ["sarif", "jsonl"] {
            let result = try CLI.run(["dockerfile", "Fixtures/dockerfiles/env/Dockerfile", "--format", format])
            XCTAssertEqual(result.status, 2, format)
            XCTAssertEqual(result.stdout, "", format)
            XCTAssertTrue(result.stderr.contains("'text' and 'json'"), result.stderr)
        }
    }

    func testUnparseableDockerfileIsOneLineWithTheLineNumber() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("residue-bad-\(UUID().uuidString).Dockerfile")
        try Data("FROM alpine\nRUN echo ok\nFRUM x\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try CLI.run(["dockerfile", file.path])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "residue: \(file.path):3: unknown instruction FRUM\n")
        let scan = try CLI.run(["scan", "oci:Fixtures/images/oci:copy-rm", "--dockerfile", file.path])
        XCTAssertEqual(scan.status, 2)
        XCTAssertTrue(scan.stderr.contains(":3: unknown instruction"))
    }

    func testScanPointsFindingsAtDockerfileLines() throws {
        let result = try CLI.run(["scan", "oci:Fixtures/images/oci:copy-rm", "--dockerfile", "Fixtures/dockerfiles/copy-rm/Dockerfile", "--format", "json"])
        XCTAssertEqual(result.status, 1)
        let lines = result.findings.map { finding -> Int in
            let location = finding["location"] as! [String: Any]
            return (location["dockerfile"] as? [String: Any])?["line"] as? Int ?? -1
        }
        XCTAssertEqual(lines.sorted(), [8, 9, 14])
        let match = (result.json?["dockerfile"] as? [String: Any])?["images"] as? [[String: Any]]
        XCTAssertEqual(match?.first?["matched"] as? Bool, true)
        XCTAssertEqual(match?.first?["firstHistoryIndex"] as? Int, 2)
    }

    func testScanSaysWhenTheDockerfileIsAnotherBuild() throws {
        let result = try CLI.run(["scan", "oci:Fixtures/images/oci:build-arg", "--dockerfile", "Fixtures/dockerfiles/env/Dockerfile"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("does not match this image's history"), result.stdout)
        XCTAssertFalse(result.stdout.contains("      line:"), "nothing attributed when the builds differ")
    }

    func testFixtureScansLineUpWithTheirDockerfiles() throws {
        for name in ["build-arg", "env", "buildkit", "label-cmd", "overwritten", "clean-multistage"] {
            let result = try CLI.run(["scan", "oci:Fixtures/images/oci:\(name)", "--dockerfile", "Fixtures/dockerfiles/\(name)/Dockerfile", "--format", "json"])
            let match = (result.json?["dockerfile"] as? [String: Any])?["images"] as? [[String: Any]]
            XCTAssertEqual(match?.first?["matched"] as? Bool, true, "\(name): \(match ?? [])")
        }
    }
}
