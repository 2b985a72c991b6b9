import Foundation
import XCTest

/// Exit codes, errors and options, through the real binary.
final class CLIBehaviourTests: XCTestCase {
    var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("residue-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporary)
    }

    /// Exit 2 with exactly one line on stderr that contains `mentions`, nothing on stdout.
    func assertCannotScan(_ arguments: [String], mentions: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLI.run(arguments)
        XCTAssertEqual(result.status, 2, "exit status; stderr: \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line on stderr: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(mentions), "\(result.stderr) should mention \(mentions)", file: file, line: line)
    }

    func testMissingFile() throws {
        try assertCannotScan(["scan", "docker-archive:/nonexistent/app.tar"], mentions: "/nonexistent/app.tar")
        try assertCannotScan(["scan", "/nonexistent/app.tar"], mentions: "/nonexistent/app.tar")
    }

    func testUnknownTransportAndUnsupportedOnes() throws {
        try assertCannotScan(["scan", "containers-storage:app"], mentions: "unknown transport")
        // A registry nobody answers for: one line naming it (RegistryTests cover real registries).
        try assertCannotScan(["scan", "docker://127.0.0.1:1/app:1", "--retries", "1"], mentions: "docker://127.0.0.1:1/app:1")
    }

    func testTruncatedArchive() throws {
        let source = CLI.packageRoot.appendingPathComponent("Fixtures/images/build-arg.docker.tar")
        let data = try Data(contentsOf: source)
        let truncated = temporary.appendingPathComponent("truncated.tar")
        try data.prefix(data.count * 2 / 3).write(to: truncated)
        try assertCannotScan(["scan", "docker-archive:" + truncated.path], mentions: truncated.path)
    }

    func testNotAnImage() throws {
        let junk = temporary.appendingPathComponent("junk.tar")
        try Data(repeating: 0x41, count: 4096).write(to: junk)
        try assertCannotScan(["scan", junk.path], mentions: junk.path)
    }

    /// Copies the shared OCI layout so a test can damage it.
    func copyLayout() throws -> URL {
        let copy = temporary.appendingPathComponent("oci")
        try FileManager.default.copyItem(at: CLI.packageRoot.appendingPathComponent("Fixtures/images/oci"), to: copy)
        return copy
    }

    func manifest(of reference: String, in layout: URL) throws -> [String: Any] {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("index.json"))) as! [String: Any]
        let entry = (index["manifests"] as! [[String: Any]]).first {
            (($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"]) == reference
        }!
        let digest = (entry["digest"] as! String).replacingOccurrences(of: "sha256:", with: "")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: layout.appendingPathComponent("blobs/sha256/\(digest)"))) as! [String: Any]
    }

    func testLayerThatDoesNotMatchItsDigest() throws {
        let layout = try copyLayout()
        let layers = try manifest(of: "copy-rm", in: layout)["layers"] as! [[String: Any]]
        let digest = (layers.last!["digest"] as! String)
        let blob = layout.appendingPathComponent("blobs/sha256/" + digest.dropFirst("sha256:".count))
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count - 9] ^= 0xFF // the gzip trailer: inflating still works, the digest does not
        try FileManager.default.removeItem(at: blob)
        try bytes.write(to: blob)
        try assertCannotScan(["scan", "oci:\(layout.path):copy-rm"], mentions: String(digest.prefix(19)))
    }

    func testCorruptGzipLayerWithValidDigest() throws {
        // A layer whose digest is right but whose gzip stream is cut short: the manifest is
        // rewritten to describe the damaged blob, so only decompression can notice.
        let layout = try copyLayout()
        let indexURL = layout.appendingPathComponent("index.json")
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as! [String: Any]
        var entries = index["manifests"] as! [[String: Any]]
        let position = entries.firstIndex { (($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"]) == "copy-rm" }!
        var manifest = try self.manifest(of: "copy-rm", in: layout)
        var layers = manifest["layers"] as! [[String: Any]]
        let oldDigest = (layers[1]["digest"] as! String).dropFirst("sha256:".count)
        let damaged = try Data(contentsOf: layout.appendingPathComponent("blobs/sha256/\(oldDigest)")).prefix(200)
        let newDigest = try write(damaged, in: layout)
        layers[1]["digest"] = newDigest
        layers[1]["size"] = damaged.count
        manifest["layers"] = layers
        let manifestData = try JSONSerialization.data(withJSONObject: manifest)
        entries[position]["digest"] = try write(manifestData, in: layout)
        entries[position]["size"] = manifestData.count
        index["manifests"] = entries
        try JSONSerialization.data(withJSONObject: index).write(to: indexURL)
        try assertCannotScan(["scan", "oci:\(layout.path):copy-rm"], mentions: String(newDigest.prefix(19)))
    }

    func write(_ data: Data, in layout: URL) throws -> String {
        let file = temporary.appendingPathComponent("blob")
        try data.write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let hex = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: layout.appendingPathComponent("blobs/sha256/\(hex)"))
        try FileManager.default.moveItem(at: file, to: layout.appendingPathComponent("blobs/sha256/\(hex)"))
        return "sha256:\(hex)"
    }

    func testPlatformFilter() throws {
        let reference = "oci:Fixtures/images/oci:multi-platform"
        let all = try CLI.run(["scan", reference, "--format", "json"])
        XCTAssertEqual(Set(all.findings.compactMap { ($0["location"] as? [String: Any])?["platform"] as? String }), ["linux/amd64", "linux/arm64"])
        let arm = try CLI.run(["scan", reference, "--format", "json", "--platform", "linux/arm64"])
        XCTAssertEqual(arm.status, 1)
        XCTAssertEqual(Set(arm.findings.compactMap { ($0["location"] as? [String: Any])?["platform"] as? String }), ["linux/arm64"])
        XCTAssertEqual(arm.findings.map { $0["ruleId"] as? String }, ["anthropic-api-key"])
        try assertCannotScan(["scan", reference, "--platform", "linux/s390x"], mentions: "linux/s390x")
        try assertCannotScan(["scan", reference, "--platform", "linux"], mentions: "os/arch")
    }

    func testBarePathsAreSniffed() throws {
        for (path, transport) in [("Fixtures/images/legacy.docker.tar", "docker-archive"),
                                  ("Fixtures/images/env.oci.tar", "oci-archive"),
                                  ("Fixtures/images/oci", "oci")] {
            let result = try CLI.run(["scan", path, "--format", "json"])
            XCTAssertEqual(result.status, 1, path)
            XCTAssertEqual((result.json?["target"] as? [String: Any])?["transport"] as? String, transport, path)
        }
    }

    func testFailOnThreshold() throws {
        // build-arg holds a critical (GitHub) and a high (npm) finding.
        XCTAssertEqual(try CLI.run(["scan", "oci:Fixtures/images/oci:build-arg", "--fail-on", "critical"]).status, 1)
        // zstd holds only a high one (Docker Hub token).
        let zstd = try CLI.run(["scan", "oci:Fixtures/images/oci:zstd", "--fail-on", "critical", "--format", "json"])
        XCTAssertEqual(zstd.findings.map { $0["severity"] as? String }, ["high"])
        XCTAssertEqual(zstd.status, 0)
        XCTAssertEqual(try CLI.run(["scan", "oci:Fixtures/images/oci:zstd", "--fail-on", "high"]).status, 1)
        try assertCannotScan(["scan", "oci:Fixtures/images/oci:zstd", "--fail-on", "severe"], mentions: "fail-on")
    }

    func testUsageErrorsExit2AndHelpExits0() throws {
        let none = try CLI.run(["scan"])
        XCTAssertEqual(none.status, 2)
        let help = try CLI.run(["scan", "--help"])
        XCTAssertEqual(help.status, 0)
        for flag in ["--format", "--show-secrets", "--platform", "--fail-on", "--rules", "--output", "docker-archive:", "oci-archive:"] {
            XCTAssertTrue(help.stdout.contains(flag), "help mentions \(flag)")
        }
    }

    func testOutputFileIsPrivateAndJSONIsDeterministic() throws {
        let report = temporary.appendingPathComponent("report.json")
        let result = try CLI.run(["scan", "oci:Fixtures/images/oci:credential-files", "--format", "json", "--output", report.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        let attributes = try FileManager.default.attributesOfItem(atPath: report.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let again = try CLI.run(["scan", "oci:Fixtures/images/oci:credential-files", "--format", "json"])
        XCTAssertEqual(again.stdout, try String(contentsOf: report, encoding: .utf8))
    }

    func testTextReportShowsInstructionStatusAndFix() throws {
        let result = try CLI.run(["scan", "oci:Fixtures/images/oci:copy-rm"], environment: ["NO_COLOR": "1"])
        XCTAssertEqual(result.status, 1)
        XCTAssertFalse(result.stdout.contains("\u{1B}["), "no colour codes")
        XCTAssertTrue(result.stdout.contains("[deleted]"))
        XCTAssertTrue(result.stdout.contains("/root/.ssh/id_ed25519"))
        XCTAssertTrue(result.stdout.contains("RUN --mount=type=ssh"))
        XCTAssertTrue(result.stdout.contains("--mount=type=secret,id=npmrc,target=/root/.npmrc"))
        XCTAssertTrue(result.stdout.contains("secrets redacted"))
    }

    func testExtraRulesFile() throws {
        let rules = temporary.appendingPathComponent("extra.toml")
        try """
        [[rules]]
        id = "busybox-banner"
        title = "test rule"
        severity = "low"
        regex = '''(BusyBox v1\\.[0-9]+)'''
        keywords = ["busybox v1."]
        binary = true
        examples = ['''BusyBox v1.35''']
        counterExamples = ['''busybox''']
        """.write(to: rules, atomically: true, encoding: .utf8)
        let result = try CLI.run(["scan", "oci:Fixtures/images/oci:base", "--rules", rules.path, "--format", "json"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.findings.contains { $0["ruleId"] as? String == "busybox-banner" })
        try "[[rules]]\nid = \"x\"\ntitle = \"t\"\nseverity = \"low\"\nregex = '''(['''\nkeywords = [\"x\"]\n".write(to: rules, atomically: true, encoding: .utf8)
        try assertCannotScan(["scan", "oci:Fixtures/images/oci:base", "--rules", rules.path], mentions: "rule x")
    }

    func testRulesCommands() throws {
        let test = try CLI.run(["rules", "test"])
        XCTAssertEqual(test.status, 0, test.stdout)
        XCTAssertTrue(test.stdout.contains("all passed"))
        let list = try CLI.run(["rules", "list"])
        XCTAssertTrue(list.stdout.contains("github-pat"))
        XCTAssertTrue(list.stdout.contains("secret-named-variable"))
    }
}
