import Foundation
import XCTest

/// residue's own image (the repository's Dockerfile, runtime stage): built with buildah from
/// the binary under test, then scanned by residue from the host and by the image's own residue
/// inside it (buildah run). Both must report nothing: the binary carries its rules, but not
/// their example secrets in clear.
final class OwnImageTests: XCTestCase {
    func testOwnImageBuildsRunsAndIsClean() throws {
        try XCTSkipUnless(getuid() == 0, "buildah --isolation chroot needs root (CI runs as root)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/buildah"), "buildah not installed")
        // scripts/sanitizers.sh: an instrumented binary (and its sanitizer runtime) is not what
        // the image ships, nor can it run in the image's minimal root.
        try XCTSkipIf(ProcessInfo.processInfo.environment["RESIDUE_SANITIZER"] != nil, "the image is built from the plain binary")
        let archive = FileManager.default.temporaryDirectory.appendingPathComponent("residue-own-\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(at: archive) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [CLI.packageRoot.appendingPathComponent("scripts/build-image.sh").path,
                             "--binary", CLI.binary.path, "--out", archive.path, "--check"]
        // The script's own scans get a layer cache of their own, not the user's.
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("residue-own-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        process.environment = ProcessInfo.processInfo.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "scripts/build-image.sh --check:\n\(log.suffix(4000))")
        XCTAssertTrue(log.contains("the image scanned itself"), log)

        // Only the binary, its libraries, the CA bundle: no shell, no toolchain, no sources.
        let json = try CLI.run(["scan", "docker-archive:" + archive.path, "--format", "json", "--config", "scripts/own-image.residue.toml"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let images = ((json.json?["target"] as? [String: Any])?["images"] as? [[String: Any]]) ?? []
        XCTAssertEqual(images.count, 1)
        XCTAssertEqual((images.first?["layers"] as? [Any])?.count, 1, "one layer: COPY of the runtime files")
        // What the allowlist hides must be only what it names: the system libraries' test keys.
        for entry in json.json?["suppressed"] as? [[String: Any]] ?? [] {
            let path = ((entry["finding"] as? [String: Any])?["location"] as? [String: Any])?["path"] as? String ?? ""
            XCTAssertTrue(path.contains("/libgnutls.so"), "suppressed outside libgnutls: \(path)")
        }
    }
}
