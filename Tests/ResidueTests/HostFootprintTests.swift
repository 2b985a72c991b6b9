import Foundation
import XCTest

/// A scan of a hostile image writes nowhere but its cache folder and the report it was asked
/// for: every file-creating, renaming or deleting system call of the real binary is traced
/// (strace) and checked against those two places.
final class HostFootprintTests: XCTestCase {
    func testScanWritesOnlyToItsCacheAndReport() throws {
        let strace = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let strace else {
            XCTFail("strace is missing: `scripts/install-deps.sh --test` installs it")
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("residue-footprint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("cache").path
        let reports = folder.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        let trace = folder.appendingPathComponent("trace.txt").path

        for image in ["oci:Fixtures/broken/hostile-names", "oci:Fixtures/images/oci:nested", "Fixtures/images/legacy.docker.tar"] {
            let report = reports.appendingPathComponent("report.json").path
            let result = try CLI.run([
                "-f", "-qq", "-o", trace, "-e", "trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,link,linkat,symlink,symlinkat,chmod,fchmodat,truncate",
                CLI.binary.path, "scan", image, "--format", "json", "--cache-dir", cache, "--output", report,
            ], executable: URL(fileURLWithPath: strace))
            XCTAssertEqual(result.status, 1, "\(image): \(result.stderr)")
            let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
            XCTAssertGreaterThan(calls.count, 10, "the trace recorded the run")
            let writing = calls.filter(Self.writes)
            XCTAssertTrue(writing.contains { $0.contains(report) || $0.contains(reports.path) }, "\(image): the report write was traced")
            for call in writing {
                let paths = Self.quotedPaths(call)
                // Under scripts/sanitizers.sh the ThreadSanitizer runtime keeps its own file in /tmp.
                let sanitizerFile = { (path: String) in ProcessInfo.processInfo.environment["RESIDUE_SANITIZER"] == "thread" && path.hasPrefix("/tmp/tsan.") }
                let allowed = paths.allSatisfy { $0.hasPrefix(cache) || $0.hasPrefix(reports.path) || $0.hasPrefix("/dev/") || sanitizerFile($0) }
                XCTAssertTrue(allowed, "\(image): wrote outside its cache and report: \(call)")
            }
        }
    }

    /// A call that creates, changes or removes a file (failed calls wrote nothing).
    static func writes(_ call: Substring) -> Bool {
        if call.contains("= -1 ") { return false }
        if call.contains("open") && !call.contains("O_WRONLY") && !call.contains("O_RDWR") && !call.contains("O_CREAT") { return false }
        return true
    }

    static func quotedPaths(_ call: Substring) -> [String] {
        call.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}
