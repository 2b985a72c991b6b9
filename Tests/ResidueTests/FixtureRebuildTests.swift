import Foundation
import XCTest

/// The committed fixtures are what Fixtures/build.sh makes: rebuild one with buildah and
/// compare digests, so the script cannot rot while the tests read stale images.
final class FixtureRebuildTests: XCTestCase {
    func testBuildArgFixtureRebuildsByteForByte() throws {
        try XCTSkipUnless(getuid() == 0, "buildah --isolation chroot needs root (CI runs as root)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [CLI.packageRoot.appendingPathComponent("Fixtures/build.sh").path, "--check", "build-arg.docker.tar"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "Fixtures/build.sh --check build-arg.docker.tar:\n\(log.suffix(3000))")
    }
}
