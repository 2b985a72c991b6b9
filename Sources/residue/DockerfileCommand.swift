import ArgumentParser
import Foundation
import ResidueDockerfile
import ResidueImage
import ResidueRules
import ResidueScan

struct DockerfileCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dockerfile",
        abstract: "Find the leaks a Dockerfile builds into its image, and rewrite them.",
        discussion: """
        Reads the Dockerfile and its build context (the Dockerfile's folder unless --context is \
        given; .dockerignore applies) and reports, each at its line: credential-named ARG/ENV \
        that a RUN reads, credentials written in ENV, LABEL, RUN, CMD, COPY/ADD of credential \
        files (also through `COPY . .`), files copied then deleted (still in the layer). \
        Findings in a stage the final image does not contain are one severity lower.

        --fix rewrites the Dockerfile in place (--diff prints the change instead): build \
        arguments and ENV become `RUN --mount=type=secret,…,env=…` (with the \
        `# syntax=docker/dockerfile:1.10` line it needs; --portable: the \
        `$(cat /run/secrets/…)` form every builder runs), copied credential files become \
        secret mounts at the same path, copied SSH keys used by git/ssh become \
        `--mount=type=ssh`. It prints the `docker build` command to use.

        Exit codes: 0 nothing at or above --fail-on (after --fix: nothing left), 1 findings, \
        2 the Dockerfile could not be read or parsed.
        """
    )

    @Argument(help: "The Dockerfile.")
    var path: String

    @Option(name: .long, help: "The build context folder (default: the Dockerfile's folder).")
    var context: String?

    @Flag(name: .long, help: "Do not read the build context.")
    var noContext = false

    @Flag(name: .long, help: "Write the corrected Dockerfile over PATH.")
    var fix = false

    @Flag(name: .long, help: "Print the correction as a unified diff instead of writing it.")
    var diff = false

    @Flag(name: .long, help: "Fix with the form every builder runs (target= and $(cat /run/secrets/…)) instead of env=.")
    var portable = false

    @Option(name: .long, help: "Output format: text or json.")
    var format: DockerfileFormat = .text

    @Flag(name: .long, help: "Print secrets in clear instead of redacted.")
    var showSecrets = false

    @Option(name: .long, help: "Exit 1 when a finding is at or above this severity: low, medium, high, critical.")
    var failOn: Severity = .low

    @Option(name: .long, help: "An extra rule file (TOML); repeat for more.")
    var rules: [String] = []

    func run() throws {
        let ruleSet: RuleSet
        do { ruleSet = try RuleSet.defaults(extraFiles: rules) } catch { throw CLIError("\(error)") }
        let dockerfile: Dockerfile
        do {
            dockerfile = try DockerfileParser.parse(contentsOf: path)
        } catch let error as DockerfileParseError {
            throw CLIError(error.line > 0 ? "\(path):\(error.line): \(error.message)" : error.message)
        }
        if let context {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: context, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("--context \(context): not a folder")
            }
        }
        var options = DockerfileLintOptions()
        options.context = context
        options.readContext = !noContext
        options.showSecrets = showSecrets
        let lint = DockerfileLinter(ruleSet: ruleSet, options: options).lint(dockerfile)

        guard fix || diff else {
            let text = format == .json ? try DockerfileReporter.json(lint.report) : DockerfileReporter.text(lint.report, color: color)
            FileHandle.standardOutput.write(Data(text.utf8))
            if lint.report.hasFindings(atOrAbove: failOn) { throw ExitCode(1) }
            return
        }

        let result = DockerfileFixer(portable: portable).fix(lint)
        let contextArgument = context ?? ((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        let command = result.buildCommand(dockerfile: path, context: contextArgument)
        if diff {
            var patch = UnifiedDiff.make(result.original, result.text, oldName: "a/\(path)", newName: "b/\(path)")
            if !showSecrets, lint.redacting(patch) != patch {
                // a diff that shows the removed lines would print the secrets: mask them (it no longer applies with patch)
                patch = lint.redacting(patch)
                FileHandle.standardError.write(Data("residue: secrets in the diff are masked; --show-secrets prints a diff that applies with patch\n".utf8))
            }
            if format == .json {
                FileHandle.standardOutput.write(Data(try DockerfileReporter.fixJSON(lint.report, result, diff: patch, command: command).utf8))
            } else {
                FileHandle.standardOutput.write(Data(patch.utf8))
                FileHandle.standardError.write(Data(DockerfileReporter.fixSummary(lint.report, result, command: command, wrote: nil).utf8))
            }
        } else {
            if result.changed {
                do {
                    try Data(result.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                } catch {
                    throw CLIError("cannot write \(path): \(error.localizedDescription)")
                }
            }
            let text = format == .json
                ? try DockerfileReporter.fixJSON(lint.report, result, diff: nil, command: command)
                : DockerfileReporter.fixSummary(lint.report, result, command: command, wrote: result.changed ? path : nil)
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let remaining = lint.report.findings.filter { finding in !result.fixedLines.contains(finding.line) || !finding.fixable }
        if remaining.contains(where: { $0.severity >= failOn }) { throw ExitCode(1) }
    }

    var color: Bool {
        isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }
}

extension Scan {
    /// `--dockerfile PATH`: line the image history up with the Dockerfile's final stage, on the
    /// images the scan resolved (never by opening the image again).
    func attachDockerfile(_ path: String, to report: inout ScanReport) throws {
        let parsed: Dockerfile
        do {
            parsed = try DockerfileParser.parse(contentsOf: path)
        } catch let error as DockerfileParseError {
            throw CLIError(error.line > 0 ? "\(path):\(error.line): \(error.message)" : error.message)
        }
        DockerfileAttribution.attach(parsed, path: path, images: report.resolvedImages, to: &report)
    }
}
