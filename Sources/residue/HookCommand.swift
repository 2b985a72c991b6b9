import ArgumentParser
import Foundation
import ResidueScan

struct Hook: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install and run residue's git pre-push hook.",
        discussion: """
        `residue hook install` writes .git/hooks/pre-push (or into core.hooksPath). On every \
        `git push` it checks the Dockerfiles that the pushed commits add or change \
        (`residue dockerfile`) and scans the images listed in .residue.toml:

          [hook]
          images = ["app:dev"]     # bare names are read from the local daemon
          dockerfiles = true

        Findings block the push, each with its fix. `git push --no-verify` skips the hook.
        """,
        subcommands: [Install.self, PrePush.self]
    )

    /// This binary, as an absolute path (what the hook runs, and what runs the checks).
    static var executable: String {
        let link = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        if link != "/proc/self/exe", FileManager.default.isExecutableFile(atPath: link) { return link }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the pre-push hook into this git repository.")

        @Flag(name: .long, help: "Replace a pre-push hook that is not residue's (it is kept as pre-push.residue-backup).")
        var force = false

        @Option(name: .long, help: "The residue the hook runs (default: this binary; falls back to residue on PATH).")
        var executable: String?

        func run() throws {
            let result: PrePushHook.InstallResult
            do {
                result = try PrePushHook.install(in: FileManager.default.currentDirectoryPath,
                                                 executable: executable ?? Hook.executable, force: force)
            } catch {
                throw CLIError("\(error)")
            }
            switch result {
            case let .installed(path):
                print("residue: installed the pre-push hook at \(path)")
            case let .replaced(path, backup):
                print("residue: rewrote the pre-push hook at \(path)" + (backup.map { " (the previous hook is saved as \($0))" } ?? ""))
            }
            print("It checks the Dockerfiles your pushed commits touch and the images under [hook] in .residue.toml; `git push --no-verify` skips it.")
        }
    }

    struct PrePush: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pre-push",
            abstract: "What the installed hook runs: reads git's pre-push lines from standard input.")

        @Argument(help: "The remote's name (git passes it).")
        var remote: String = ""

        @Argument(help: "The remote's URL (git passes it).")
        var url: String = ""

        @Flag(name: .long, help: "No notes on stderr, only findings.")
        var quiet = false

        func note(_ text: String) {
            if !quiet { FileHandle.standardError.write(Data("residue: \(text)\n".utf8)) }
        }

        /// Whether this residue has a `dockerfile` command (it comes with the Dockerfile linter).
        static var hasDockerfileCommand: Bool {
            Residue.configuration.subcommands.contains { $0.configuration.commandName == "dockerfile" }
        }

        func run() throws {
            let directory = FileManager.default.currentDirectoryPath
            let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            let updates = PrePushHook.Update.parse(input)
            let config: ProjectConfig?
            do { config = try ProjectConfig.discover(in: directory) } catch { throw CLIError("\(error) (fix it, or push with --no-verify)") }
            let settings = config?.hook ?? ProjectConfig.HookSettings()
            var problems: [String] = []

            if settings.dockerfiles {
                let touched: [PrePushHook.TouchedFile]
                do {
                    touched = try PrePushHook.touchedDockerfiles(in: directory, remote: remote, updates: updates)
                } catch {
                    throw CLIError("\(error)")
                }
                if !touched.isEmpty && !Self.hasDockerfileCommand {
                    note("\(touched.count) Dockerfile\(touched.count == 1 ? "" : "s") in this push (\(touched.map(\.path).joined(separator: ", "))) not checked: this residue has no `dockerfile` command yet")
                } else if !touched.isEmpty {
                    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("residue-pre-push-\(UUID().uuidString)").path
                    defer { try? FileManager.default.removeItem(atPath: scratch) }
                    for file in touched {
                        let place: (directory: String, path: String)
                        do { place = try PrePushHook.checkout(file, in: directory, scratch: scratch) } catch { throw CLIError("\(error)") }
                        let status = try runResidue(["dockerfile", place.path], in: place.directory)
                        if status != 0 { problems.append("Dockerfile \(file.path)" + (status == 2 ? " could not be checked" : "")) }
                    }
                }
            }

            for image in settings.images {
                let reference = DockerPlugin.defaultToDaemon(image)
                var arguments = ["scan", reference]
                if quiet { arguments.append("--quiet") }
                let status = try runResidue(arguments, in: directory)
                if status != 0 { problems.append("image \(reference)" + (status == 2 ? " could not be scanned" : "")) }
            }

            guard problems.isEmpty else {
                let allowlistHint = settings.images.isEmpty ? "" : " An accepted image finding goes into .residue.toml as an [[allowlist]] entry with its reason."
                let message = """

                residue: push blocked — secrets or leaks in: \(problems.joined(separator: "; ")).
                Apply the fix shown under each finding (rotate any secret that was already built or pushed), \
                commit, and push again.\(allowlistHint)
                To push anyway, once: git push --no-verify

                """
                FileHandle.standardError.write(Data(message.utf8))
                throw ExitCode(1)
            }
        }

        /// Runs this residue with `arguments` in `directory`, its output going straight to the terminal.
        func runResidue(_ arguments: [String], in directory: String) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Hook.executable)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardInput = FileHandle.nullDevice
            do { try process.run() } catch { throw CLIError("cannot run \(Hook.executable): \(error.localizedDescription)") }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}
