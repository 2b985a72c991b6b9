import Foundation
import XCTest

/// Validates SARIF against the official SARIF 2.1.0 schema with scripts/validate-sarif.py
/// (Python's jsonschema). The schema is OASIS's, kept in the repository at
/// `Fixtures/schemas/sarif-2.1.0.json` (its origin in Fixtures/schemas/README.md), so a clone
/// with nothing beside it runs these tests; RESIDUE_SARIF_SCHEMA names another copy.
enum SARIFValidator {
    static let schema: URL? = {
        if let path = ProcessInfo.processInfo.environment["RESIDUE_SARIF_SCHEMA"] { return URL(fileURLWithPath: path) }
        let bundled = CLI.packageRoot.appendingPathComponent("Fixtures/schemas/sarif-2.1.0.json")
        return FileManager.default.fileExists(atPath: bundled.path) ? bundled : nil
    }()

    /// Fails the test (never skips) when a document does not validate or cannot be checked.
    static func assertValid(_ documents: [String: String], file: StaticString = #filePath, line: UInt = #line) throws {
        guard let schema else {
            XCTFail("SARIF schema not found: expected Fixtures/schemas/sarif-2.1.0.json (or RESIDUE_SARIF_SCHEMA)", file: file, line: line)
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("residue-sarif-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        for (index, (name, text)) in documents.sorted(by: { $0.key < $1.key }).enumerated() {
            let safe = name.map { $0.isLetter || $0.isNumber ? $0 : "_" }
            let url = folder.appendingPathComponent("\(index)-\(String(safe)).sarif")
            try Data(text.utf8).write(to: url)
            paths.append(url.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", CLI.packageRoot.appendingPathComponent("scripts/validate-sarif.py").path, schema.path] + paths
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "SARIF does not validate against \(schema.path):\n\(output.suffix(4000))", file: file, line: line)
        XCTAssertTrue(output.contains("\(documents.count) valid"), output, file: file, line: line)
    }
}
