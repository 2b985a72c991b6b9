import Foundation
import XCTest

/// Runs the real `residue` binary, as users and CI do.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }

    var findings: [[String: Any]] { json?["findings"] as? [[String: Any]] ?? [] }
}

enum CLI {
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// The binary built next to the test bundle (`swift build --build-tests` builds both).
    static let binary: URL = {
        // On Linux the bundle URL is the products folder itself; elsewhere, the .xctest inside it.
        let bundle = Bundle(for: Marker.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("residue") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    final class Marker {}
    final class DataBox: @unchecked Sendable { var data = Data() }

    /// Runs residue (or, with `executable`, another program such as strace wrapping it).
    static func run(_ arguments: [String], environment: [String: String] = [:], executable: URL? = nil,
                    file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            XCTFail("residue binary not built at \(binary.path)", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        let process = Process()
        process.executableURL = executable ?? binary
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        // A layer cache of its own per run unless the test names one: runs stay independent
        // (a damaged copy of an image must not be answered from the cache of the good one).
        var ownCache: URL?
        if environment["XDG_CACHE_HOME"] == nil && !arguments.contains("--cache-dir") {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("residue-test-cache-\(UUID().uuidString)")
            env["XDG_CACHE_HOME"] = folder.path
            ownCache = folder
        }
        defer { if let ownCache { try? FileManager.default.removeItem(at: ownCache) } }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so a large report cannot block the child.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }
}
