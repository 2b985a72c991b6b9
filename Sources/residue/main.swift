import ArgumentParser
import Foundation
import ResidueImage
import ResidueRules
import ResidueScan

struct Residue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "residue",
        abstract: "Find the secrets that container image builds leave behind.",
        discussion: """
        residue reads an image the way anyone who can pull it can: the config, the build history, and every \
        layer, including files a later layer deleted or overwrote. Each finding names the Dockerfile \
        instruction that put the secret there and the change that keeps it out.

        Exit codes: 0 nothing found at or above --fail-on, 1 findings, 2 the image could not be scanned.
        """,
        version: "0.1.0",
        subcommands: [Scan.self, Rules.self]
    )
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Severity: ExpressibleByArgument {}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan an image for leaked secrets.",
        discussion: """
        IMAGE uses the transport syntax of skopeo and podman:
          docker-archive:PATH[:NAME:TAG|:@N]  `docker save` output
          oci:DIR[:REF]                       an OCI image layout directory
          oci-archive:PATH[:REF]              an OCI layout as one tar
          PATH                                a file or folder (format sniffed)
        Every platform of a multi-platform image is scanned unless --platform
        is given. Exit codes: 0 nothing at or above --fail-on, 1 findings,
        2 the image could not be scanned.
        """
    )

    @Argument(help: "The image to scan (see below).")
    var image: String

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(name: .long, help: "Print secrets in clear instead of redacted.")
    var showSecrets = false

    @Option(name: .long, help: "Scan only this platform, as os/arch[/variant] (e.g. linux/arm64).")
    var platform: String?

    @Option(name: .long, help: "Exit 1 when a finding is at or above this severity: low, medium, high, critical.")
    var failOn: Severity = .low

    @Option(name: .long, help: "An extra rule file (TOML); repeat for more.")
    var rules: [String] = []

    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    @Flag(name: .long, help: "Never colour the text output (also: NO_COLOR set, or output not a terminal).")
    var noColor = false

    func run() throws {
        var options = ScanOptions()
        options.showSecrets = showSecrets
        if let platform {
            guard let parsed = Platform(platform) else {
                throw CLIError("--platform \(platform): expected os/arch[/variant], e.g. linux/amd64")
            }
            options.platform = parsed
        }
        let ruleSet: RuleSet
        do {
            ruleSet = try RuleSet.defaults(extraFiles: rules)
        } catch {
            throw CLIError("\(error)")
        }
        let reference: ImageReference
        do {
            reference = try ImageReference.parse(image)
        } catch {
            throw CLIError("\(error)")
        }
        let report: ScanReport
        do {
            report = try Scanner(ruleSet: ruleSet, options: options).scan(reference)
        } catch {
            throw CLIError("\(error)")
        }
        let toTerminal = output == nil && isatty(STDOUT_FILENO) != 0
        let color = toTerminal && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        let reporter: Reporter = format == .json ? JSONReporter() : TextReporter(color: color)
        let text = try reporter.render(report)
        if let output {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                chmod(output, 0o600)
            } catch {
                throw CLIError("cannot write report to \(output): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if report.hasFindings(atOrAbove: failOn) { throw ExitCode(1) }
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and test detection rules.",
        subcommands: [List.self, Test.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rules (built-in and --rules files).")

        @Option(name: .long, help: "An extra rule file (TOML); repeat for more.")
        var rules: [String] = []

        func run() throws {
            let ruleSet: RuleSet
            do { ruleSet = try RuleSet.defaults(extraFiles: rules) } catch { throw CLIError("\(error)") }
            for compiled in ruleSet.rules {
                let rule = compiled.rule
                print("\(rule.id.padding(toLength: 30, withPad: " ", startingAt: 0)) \(rule.severity.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(rule.title)")
            }
            print("\("secret-named-variable".padding(toLength: 30, withPad: " ", startingAt: 0)) \("high".padding(toLength: 9, withPad: " ", startingAt: 0)) Credential in a variable whose name says so (built in)")
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run each rule's examples (must match) and counter-examples (must not).",
            discussion: "Without FILE, tests the built-in rules; with FILE, only the rules in it.")

        @Argument(help: "A rule file to test.")
        var file: String?

        func run() throws {
            let ruleSet: RuleSet
            do {
                if let file {
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("\(file): cannot read rule file") }
                    ruleSet = try RuleSet(RuleLoader.parse(text, origin: file))
                } else {
                    ruleSet = try RuleSet.defaults()
                }
            } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
            let failures = RuleTester.run(ruleSet)
            for failure in failures { print("FAIL \(failure)") }
            let samples = ruleSet.rules.reduce(0) { $0 + ($1.rule.examples?.count ?? 0) + ($1.rule.counterExamples?.count ?? 0) }
            print("\(ruleSet.rules.count) rules, \(samples) examples: \(failures.isEmpty ? "all passed" : "\(failures.count) failed")")
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }
}

/// An error the user can act on: printed as one line, exit code 2.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// Exit codes: 0 clean, 1 findings, 2 could not scan (including bad usage).
do {
    var command = try Residue.parseAsRoot()
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
