import ArgumentParser
import Foundation

/// An error the user can act on: printed as one line, exit code 2.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// Exit codes: 0 clean, 1 findings, 2 could not scan (including bad usage).
if DockerPlugin.answerMetadataRequest(version: Residue.configuration.version) { exit(0) }
do {
    var command = try Residue.parseAsRoot(DockerPlugin.arguments())
    try command.run()
} catch let error as CLIError {
    FileHandle.standardError.write(Data("residue: \(error.description)\n".utf8))
    exit(2)
} catch {
    let code = Residue.exitCode(for: error)
    if code == .success || code.rawValue == 1 {
        Residue.exit(withError: error)
    }
    let message = Residue.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    FileHandle.standardError.write(Data("residue: \(message) (see `residue --help`)\n".utf8))
    exit(2)
}
