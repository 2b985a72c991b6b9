import Foundation
@testable import ResidueScan
import XCTest

/// The small decisions behind the integrations, without a process.
final class IntegrationUnitTests: XCTestCase {
    func testWhatCountsAsADockerfile() {
        for path in ["Dockerfile", "a/b/Dockerfile", "Containerfile", "api.Dockerfile", "x.dockerfile", "Dockerfile.dev", "ci/Dockerfile-test"] {
            XCTAssertTrue(PrePushHook.isDockerfile(path), path)
        }
        for path in ["README.md", "Dockerfiles/README", "docs/dockerfile.md", "mydockerfile"] {
            XCTAssertFalse(PrePushHook.isDockerfile(path), path)
        }
    }

    func testPrePushLines() {
        let zero = String(repeating: "0", count: 40), a = String(repeating: "a", count: 40), b = String(repeating: "b", count: 40)
        let updates = PrePushHook.Update.parse("refs/heads/main \(a) refs/heads/main \(b)\nrefs/heads/new \(a) refs/heads/new \(zero)\n(delete) \(zero) refs/heads/old \(b)\n\n")
        XCTAssertEqual(updates.count, 3)
        XCTAssertFalse(updates[0].isNewRef || updates[0].isDeletion)
        XCTAssertTrue(updates[1].isNewRef)
        XCTAssertTrue(updates[2].isDeletion)
    }

    func testHookScriptQuotesItsPath() {
        let script = PrePushHook.script(executable: "/opt/it's here/residue")
        XCTAssertTrue(script.hasPrefix("#!/bin/sh\n\(PrePushHook.marker)"))
        XCTAssertTrue(script.contains("RESIDUE='/opt/it'\\''s here/residue'"), script)
        XCTAssertTrue(script.contains("exec \"$RESIDUE\" hook pre-push \"$@\""))
    }

    func testBaselineRejectsWhatIsNotAReport() {
        XCTAssertThrowsError(try Baseline.parse(Data("{\"name\": 1}".utf8), path: "x.json"))
        XCTAssertThrowsError(try Baseline.parse(Data("hello\n".utf8), path: "x.txt"))
        XCTAssertThrowsError(try Baseline.parse(Data(), path: "empty"))
        let sarif = try? Baseline.parse(Data(#"{"runs":[{"results":[{"partialFingerprints":{"residue/v1":"abc"}}]}]}"#.utf8), path: "s")
        XCTAssertEqual(sarif?.fingerprints, ["v1:abc"])
    }

    func testSARIFRuleNamesAndLevels() {
        XCTAssertEqual(SARIFReporter.ruleName("private-key-openssh"), "PrivateKeyOpenssh")
        XCTAssertEqual(SARIFReporter.level("critical"), "error")
        XCTAssertEqual(SARIFReporter.level("medium"), "warning")
        XCTAssertEqual(SARIFReporter.level("low"), "note")
        XCTAssertEqual(SARIFReporter.uri(forFile: "/src/my app/Dockerfile"), "file:///src/my%20app/Dockerfile")
        XCTAssertEqual(SARIFReporter.uri(forFile: "svc/Dockerfile"), "svc/Dockerfile")
    }
}
