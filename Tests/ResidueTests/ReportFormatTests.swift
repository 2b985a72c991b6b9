import Foundation
import ResidueScan
import XCTest

/// SARIF, JSON Lines and --output, through the real binary. Every SARIF document this suite
/// produces goes through the official schema (SARIFValidator).
final class ReportFormatTests: XCTestCase {
    var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("residue-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temporary) }

    static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// Every fixture: the SARIF validates, has one result per JSON finding with the same
    /// fingerprint, one descriptor per rule used, and a location a dashboard can open.
    func testSARIFOfEveryFixture() throws {
        var documents: [String: String] = [:]
        for fixture in FixtureScanTests.fixtures {
            let sarif = try CLI.run(["scan", fixture.reference, "--format", "sarif"])
            let json = try CLI.run(["scan", fixture.reference, "--format", "json"])
            XCTAssertEqual(sarif.status, json.status, fixture.name)
            XCTAssertEqual(sarif.stderr, "", fixture.name)
            documents[fixture.name] = sarif.stdout

            let log = Self.object(sarif.stdout)
            XCTAssertEqual(log["version"] as? String, "2.1.0")
            let run = (log["runs"] as? [[String: Any]])?.first ?? [:]
            let results = run["results"] as? [[String: Any]] ?? []
            let findings = json.findings
            XCTAssertEqual(results.count, findings.count, "\(fixture.name): one result per finding")
            let partials = results.compactMap { ($0["partialFingerprints"] as? [String: String])?["residue/v1"] }
            XCTAssertEqual(partials.map { "v1:" + $0 }, findings.compactMap { $0["fingerprint"] as? String }, fixture.name)

            let rules = ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]] ?? []
            let ruleIDs = rules.compactMap { $0["id"] as? String }
            XCTAssertEqual(Set(ruleIDs).count, ruleIDs.count, "\(fixture.name): a descriptor per rule, once")
            XCTAssertEqual(Set(ruleIDs), Set(findings.compactMap { $0["ruleId"] as? String }), fixture.name)
            for rule in rules {
                let severity = (rule["properties"] as? [String: Any])?["security-severity"] as? String
                XCTAssertNotNil(severity.flatMap(Double.init), "\(fixture.name): security-severity of \(rule["id"] ?? "")")
            }
            for result in results {
                let index = result["ruleIndex"] as? Int ?? -1
                XCTAssertEqual(ruleIDs.indices.contains(index) ? ruleIDs[index] : nil, result["ruleId"] as? String)
                let location = (result["locations"] as? [[String: Any]])?.first ?? [:]
                let physical = location["physicalLocation"] as? [String: Any] ?? [:]
                XCTAssertNotNil((physical["artifactLocation"] as? [String: Any])?["uri"] as? String, "\(fixture.name): artifact uri")
                XCTAssertGreaterThanOrEqual((physical["region"] as? [String: Any])?["startLine"] as? Int ?? 0, 1)
                let logical = (location["logicalLocations"] as? [[String: Any]])?.first ?? [:]
                XCTAssertTrue((logical["fullyQualifiedName"] as? String ?? "").hasPrefix(fixture.reference), "\(fixture.name): logical location names the image")
            }
        }
        try SARIFValidator.assertValid(documents)
    }

    func testSARIFNamesLayerAndPathAndIsDeterministic() throws {
        let first = try CLI.run(["scan", "Fixtures/images/legacy.docker.tar", "--format", "sarif"])
        let second = try CLI.run(["scan", "Fixtures/images/legacy.docker.tar", "--format", "sarif"])
        XCTAssertEqual(first.stdout, second.stdout, "two scans, byte-identical SARIF")
        let run = ((Self.object(first.stdout)["runs"] as? [[String: Any]]) ?? [])[0]
        let results = run["results"] as? [[String: Any]] ?? []
        let npm = try XCTUnwrap(results.first { $0["ruleId"] as? String == "npm-token" })
        let location = (npm["locations"] as? [[String: Any]])![0]
        let artifact = (location["physicalLocation"] as? [String: Any])?["artifactLocation"] as? [String: Any]
        XCTAssertEqual(artifact?["uri"] as? String, "root/.npmrc")
        XCTAssertEqual(artifact?["uriBaseId"] as? String, "IMAGEROOT")
        let name = ((location["logicalLocations"] as? [[String: Any]])?[0]["fullyQualifiedName"] as? String) ?? ""
        XCTAssertTrue(name.contains("layer 3 sha256:") && name.hasSuffix("/root/.npmrc"), name)
        XCTAssertTrue(((npm["message"] as? [String: Any])?["text"] as? String ?? "").contains("Fix: "))
        XCTAssertFalse(first.stdout.contains("baselineState"), "no baseline, no baselineState")
        try SARIFValidator.assertValid(["legacy": first.stdout])
    }

    /// When a finding carries `location.dockerfile` (scan --dockerfile), the SARIF result
    /// points at that Dockerfile line.
    func testDockerfileLineBecomesThePhysicalLocation() throws {
        let json = try CLI.run(["scan", "oci:Fixtures/images/oci:build-arg", "--format", "json"])
        var report = Self.object(json.stdout)
        var findings = report["findings"] as? [[String: Any]] ?? []
        XCTAssertFalse(findings.isEmpty)
        for index in findings.indices {
            var location = findings[index]["location"] as? [String: Any] ?? [:]
            location["dockerfile"] = ["path": "services/api/Dockerfile", "line": 4 + index]
            findings[index]["location"] = location
        }
        report["findings"] = findings
        let data = try JSONSerialization.data(withJSONObject: report)
        let sarif = try SARIFReporter(toolVersion: "0.1.0").convert(reportJSON: data)
        let results = ((Self.object(sarif)["runs"] as? [[String: Any]])?[0]["results"] as? [[String: Any]]) ?? []
        for (index, result) in results.enumerated() {
            let physical = ((result["locations"] as? [[String: Any]])?[0]["physicalLocation"] as? [String: Any]) ?? [:]
            XCTAssertEqual((physical["artifactLocation"] as? [String: Any])?["uri"] as? String, "services/api/Dockerfile")
            XCTAssertNil((physical["artifactLocation"] as? [String: Any])?["uriBaseId"])
            XCTAssertEqual((physical["region"] as? [String: Any])?["startLine"] as? Int, 4 + index)
        }
        try SARIFValidator.assertValid(["dockerfile-lines": sarif])
    }

    /// With the real `scan --dockerfile` (when this build has it): results point at the
    /// Dockerfile lines the JSON names, and the SARIF validates.
    func testScanWithDockerfileGivesSourceLines() throws {
        let help = try CLI.run(["scan", "--help"])
        try XCTSkipUnless(help.stdout.contains("--dockerfile"), "this build has no scan --dockerfile yet")
        let arguments = ["scan", "oci:Fixtures/images/oci:build-arg", "--dockerfile", "Fixtures/dockerfiles/build-arg/Dockerfile"]
        let json = try CLI.run(arguments + ["--format", "json"])
        let sarif = try CLI.run(arguments + ["--format", "sarif"])
        XCTAssertEqual(sarif.status, json.status, sarif.stderr)
        let results = ((Self.object(sarif.stdout)["runs"] as? [[String: Any]])?[0]["results"] as? [[String: Any]]) ?? []
        XCTAssertEqual(results.count, json.findings.count)
        var located = 0
        for (finding, result) in zip(json.findings, results) {
            guard let source = (finding["location"] as? [String: Any])?["dockerfile"] as? [String: Any] else { continue }
            located += 1
            let physical = ((result["locations"] as? [[String: Any]])?[0]["physicalLocation"] as? [String: Any]) ?? [:]
            XCTAssertEqual((physical["artifactLocation"] as? [String: Any])?["uri"] as? String, source["path"] as? String)
            XCTAssertEqual((physical["region"] as? [String: Any])?["startLine"] as? Int, source["line"] as? Int)
        }
        XCTAssertGreaterThan(located, 0, "some finding carries its Dockerfile line")
        try SARIFValidator.assertValid(["scan-dockerfile": sarif.stdout])
    }

    func testJSONLines() throws {
        let jsonl = try CLI.run(["scan", "oci:Fixtures/images/oci:credential-files", "--format", "jsonl"])
        let json = try CLI.run(["scan", "oci:Fixtures/images/oci:credential-files", "--format", "json"])
        XCTAssertEqual(jsonl.status, 1)
        let lines = jsonl.stdout.split(separator: "\n").map { Self.object(String($0)) }
        XCTAssertTrue(lines.allSatisfy { !$0.isEmpty }, "every line is a JSON object")
        let findings = lines.filter { $0["type"] as? String == "finding" }
        XCTAssertEqual(findings.count, json.findings.count)
        XCTAssertEqual(findings.compactMap { $0["fingerprint"] as? String }, json.findings.compactMap { $0["fingerprint"] as? String })
        XCTAssertEqual(lines.last?["type"] as? String, "summary")
        XCTAssertEqual((lines.last?["summary"] as? [String: Any])?["findings"] as? Int, json.findings.count)
    }

    func testOutputFileForEveryFormat() throws {
        for format in ["text", "json", "jsonl", "sarif"] {
            let path = temporary.appendingPathComponent("report.\(format)").path
            let result = try CLI.run(["scan", "Fixtures/images/legacy.docker.tar", "--format", format, "--output", path])
            XCTAssertEqual(result.status, 1, format)
            XCTAssertEqual(result.stdout, "", "\(format): the report goes to the file only")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, format)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertFalse(text.contains("\u{1B}["), "\(format): no colours in a file")
            if format == "sarif" { try SARIFValidator.assertValid(["output": text]) }
        }
    }

    /// Not a terminal: no progress, nothing on stderr. A terminal (a pty from script(1)):
    /// a progress line on stderr, erased before the report; --quiet turns it off.
    func testProgressOnlyOnATerminal() throws {
        let plain = try CLI.run(["scan", "Fixtures/images/legacy.docker.tar", "--format", "json"])
        XCTAssertEqual(plain.stderr, "")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("script(1) not installed") }
        func underTerminal(_ extra: String) throws -> String {
            let command = "\(CLI.binary.path) scan Fixtures/images/legacy.docker.tar --output \(temporary.path)/r.txt \(extra)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qec", command, "/dev/null"]
            process.currentDirectoryURL = CLI.packageRoot
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return output
        }
        let shown = try underTerminal("")
        XCTAssertTrue(shown.contains("layers 7/7"), "progress on a terminal: \(shown.debugDescription)")
        XCTAssertTrue(shown.contains("\r\u{1B}[K"), "the line is erased")
        let quiet = try underTerminal("--quiet")
        XCTAssertFalse(quiet.contains("layers"), "--quiet: \(quiet.debugDescription)")
    }

    func testColoursFollowNoColorAndTerminals() throws {
        // Not a terminal: never colours.
        let piped = try CLI.run(["scan", "Fixtures/images/legacy.docker.tar"])
        XCTAssertFalse(piped.stdout.contains("\u{1B}["))
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("script(1) not installed") }
        func underTerminal(_ environment: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qec", "\(environment) \(CLI.binary.path) scan Fixtures/images/legacy.docker.tar --quiet", "/dev/null"]
            process.currentDirectoryURL = CLI.packageRoot
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return output
        }
        XCTAssertTrue(try underTerminal("env -u NO_COLOR").contains("\u{1B}[1;31mCRITICAL"))
        XCTAssertFalse(try underTerminal("NO_COLOR=1").contains("\u{1B}["))
    }

    func testProgressLineText() {
        final class Box: @unchecked Sendable { var text = "" }
        let box = Box()
        let line = ProgressLine(label: "oci:x") { box.text += $0 }
        line.handler(.started(images: 2, layers: 2))
        line.handler(.layerFinished(bytes: 1_500_000, files: 3, cached: false))
        line.handler(.layerFinished(bytes: 500_000, files: 1, cached: true))
        XCTAssertTrue(box.text.hasSuffix("residue: oci:x — 2 images, layers 2/2, 4 files, 2.0 MB"), box.text)
        line.finish()
        XCTAssertTrue(box.text.hasSuffix("\r\u{1B}[K"))

        // A streamed source: layers arrive before the totals are known.
        let streamed = ProgressLine(label: "docker-daemon:app") { box.text = $0 }
        streamed.handler(.layerFinished(bytes: 1000, files: 1, cached: false))
        XCTAssertTrue(box.text.hasSuffix("docker-daemon:app — layers 1, 1 files, 1.0 KB"), box.text)
    }
}
