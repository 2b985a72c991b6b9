import Foundation

/// The git pre-push hook: what `residue hook install` writes, and the git plumbing the hook
/// runs (which Dockerfiles the pushed commits touch). The checks themselves are residue's own
/// commands (`residue dockerfile`, `residue scan`), run by the CLI.
public enum PrePushHook {
    /// The line that marks a hook as residue's: only such a hook is replaced without --force.
    public static let marker = "# residue pre-push hook"

    public static func script(executable: String) -> String {
        let quoted = "'" + executable.replacingOccurrences(of: "'", with: "'\\''") + "'"
        return """
        #!/bin/sh
        \(marker) — written by `residue hook install`; `residue hook install --force` rewrites it.
        # Checks the Dockerfiles the pushed commits touch (`residue dockerfile`) and the images
        # listed under [hook] in .residue.toml (`residue scan`, through the local daemon), and
        # blocks the push on findings. Bypass once with: git push --no-verify
        RESIDUE=\(quoted)
        if [ ! -x "$RESIDUE" ]; then RESIDUE=$(command -v residue 2>/dev/null || true); fi
        if [ -z "$RESIDUE" ]; then
            echo "residue pre-push hook: residue is not installed (not at \(quoted), not on PATH)." >&2
            echo "Install it, or push without the check: git push --no-verify" >&2
            exit 1
        fi
        exec "$RESIDUE" hook pre-push "$@"

        """
    }

    public enum InstallResult: Equatable {
        case installed(path: String)
        case replaced(path: String, backup: String?)
    }

    /// Writes the hook into the repository at `directory` (respecting `core.hooksPath`).
    /// Refuses to replace a hook that is not residue's unless `force`; a replaced foreign hook
    /// is kept as `pre-push.residue-backup`.
    public static func install(in directory: String, executable: String, force: Bool) throws -> InstallResult {
        let git = Git(directory: directory)
        let relative = try git.output(["rev-parse", "--git-path", "hooks/pre-push"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let path = relative.hasPrefix("/") ? relative : (directory as NSString).appendingPathComponent(relative)
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var result = InstallResult.installed(path: path)
        if fileManager.fileExists(atPath: path) {
            let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if existing.contains(marker) {
                result = .replaced(path: path, backup: nil)
            } else {
                guard force else {
                    throw HookError("\(path) already exists and is not residue's hook; keep it, or replace it with `residue hook install --force` (it is then saved as pre-push.residue-backup)")
                }
                let backup = path + ".residue-backup"
                try? fileManager.removeItem(atPath: backup)
                try fileManager.moveItem(atPath: path, toPath: backup)
                result = .replaced(path: path, backup: backup)
            }
        }
        try script(executable: executable).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return result
    }

    /// One line git writes to the hook's stdin: `<local ref> <local sha> <remote ref> <remote sha>`.
    public struct Update: Equatable, Sendable {
        public var localRef: String
        public var localSHA: String
        public var remoteRef: String
        public var remoteSHA: String

        public var isDeletion: Bool { localSHA.allSatisfy { $0 == "0" } }
        public var isNewRef: Bool { remoteSHA.allSatisfy { $0 == "0" } }

        public static func parse(_ text: String) -> [Update] {
            text.split(whereSeparator: \.isNewline).compactMap { line in
                let fields = line.split(separator: " ").map(String.init)
                guard fields.count == 4 else { return nil }
                return Update(localRef: fields[0], localSHA: fields[1], remoteRef: fields[2], remoteSHA: fields[3])
            }
        }
    }

    /// A Dockerfile as the pushed commit has it.
    public struct TouchedFile: Equatable, Sendable {
        public var path: String
        public var commit: String
    }

    /// `Dockerfile`, `Containerfile`, `Dockerfile.dev`, `api.Dockerfile`, `build/Dockerfile-ci`.
    public static func isDockerfile(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent.lowercased()
        // Notes about a Dockerfile are not one (`Dockerfile.md`).
        if ["md", "txt", "rst", "adoc", "html"].contains((name as NSString).pathExtension) { return false }
        for base in ["dockerfile", "containerfile"] {
            if name == base || name.hasPrefix(base + ".") || name.hasPrefix(base + "-") || name.hasSuffix("." + base) { return true }
        }
        return false
    }

    /// The Dockerfiles that the commits being pushed add or change and that still exist at the
    /// pushed commit. Commits the remote already has (its branches, the ref's old value) are
    /// not looked at.
    public static func touchedDockerfiles(in directory: String, remote: String, updates: [Update]) throws -> [TouchedFile] {
        let git = Git(directory: directory)
        var result: [TouchedFile] = []
        var seen = Set<String>()
        for update in updates where !update.isDeletion {
            var arguments = ["log", "--format=", "--name-only", "--no-renames", "--diff-filter=AMRC", update.localSHA, "--not"]
            if !update.isNewRef, (try? git.output(["cat-file", "-e", update.remoteSHA + "^{commit}"])) != nil {
                arguments.append(update.remoteSHA)
            }
            if !remote.isEmpty, !remote.contains("/"), !remote.contains(":") { arguments.append("--remotes=\(remote)") }
            let names = try git.output(arguments).split(whereSeparator: \.isNewline).map(String.init)
            for name in names where isDockerfile(name) && !seen.contains(name) {
                guard (try? git.output(["cat-file", "-e", "\(update.localSHA):\(name)"])) != nil else { continue }
                seen.insert(name)
                result.append(TouchedFile(path: name, commit: update.localSHA))
            }
        }
        return result.sorted { $0.path < $1.path }
    }

    /// Where to lint `file`: the working-tree file when it is what is being pushed (so the
    /// build context next to it is read and messages name the real path), else a copy of the
    /// pushed version under `scratch` at the same relative path.
    public static func checkout(_ file: TouchedFile, in directory: String, scratch: String) throws -> (directory: String, path: String) {
        let git = Git(directory: directory)
        let pushed = try git.output(["rev-parse", "\(file.commit):\(file.path)"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let onDisk = (directory as NSString).appendingPathComponent(file.path)
        if FileManager.default.fileExists(atPath: onDisk),
           let current = try? git.output(["hash-object", "--", file.path]).trimmingCharacters(in: .whitespacesAndNewlines),
           current == pushed {
            return (directory, file.path)
        }
        let content = try git.data(["cat-file", "blob", pushed])
        let target = (scratch as NSString).appendingPathComponent(file.path)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(to: URL(fileURLWithPath: target))
        return (scratch, file.path)
    }
}

public struct HookError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs git in one repository and returns what it printed; a failure names the command.
struct Git {
    let directory: String

    func data(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let errorBox = ErrorBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorBox.data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            throw HookError("git \(arguments.joined(separator: " ")): \(message)")
        }
        return output
    }

    func output(_ arguments: [String]) throws -> String { String(decoding: try data(arguments), as: UTF8.self) }

    final class ErrorBox: @unchecked Sendable { var data = Data() }
}
