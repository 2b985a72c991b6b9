import ArgumentParser
import Foundation
import ResidueArchive
import ResidueRules
import ResidueScan

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, jsonl, sarif
}

/// `residue dockerfile` reports lint findings and fixes, not image findings: text or JSON only
/// (an unsupported format is refused by the parser instead of silently printing text).
enum DockerfileFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Severity: ExpressibleByArgument {}
extension Confidence: ExpressibleByArgument {}

/// How a report is shaped, filtered and delivered: shared by every command that reports
/// findings (`scan`, and the audit and hook commands that call it).
struct ReportOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: text, json, jsonl (one finding per line) or sarif (SARIF 2.1.0).")
    var format: OutputFormat = .text

    @Option(name: .long, help: "Write the report to this file (mode 0600) instead of standard output.")
    var output: String?

    @Option(name: .long, help: "Exit 1 when a finding is at or above this severity: low, medium, high, critical (default: the config's fail-on, else low).")
    var failOn: Severity?

    @Option(name: .long, help: "Hide findings rated below this confidence: low, medium, high (default: the config's min-confidence, else show all). Hidden findings are counted in the summary and listed as suppressed in JSON and SARIF.")
    var minConfidence: Confidence?

    @Option(name: .long, help: "Project config (default: .residue.toml in the current folder, when there is one).")
    var config: String?

    @Option(name: .long, help: "An earlier report (JSON, JSON Lines or SARIF): report only findings whose fingerprints are not in it.")
    var baseline: String?

    @Flag(name: .long, help: "No progress line and no notes on stderr (errors are still printed).")
    var quiet = false

    @Flag(name: .long, help: "Never colour the text output (also: NO_COLOR set, or output not a terminal).")
    var noColor = false

    /// The config given with --config, else `.residue.toml` here, else none.
    func loadConfig() throws -> ProjectConfig? {
        do {
            if let config { return try ProjectConfig.load(path: config) }
            return try ProjectConfig.discover()
        } catch {
            throw CLIError("\(error)")
        }
    }

    func loadBaseline() throws -> Baseline? {
        guard let baseline else { return nil }
        do { return try Baseline.load(path: baseline) } catch { throw CLIError("\(error)") }
    }

    func threshold(_ config: ProjectConfig?) -> Severity { failOn ?? config?.failOn ?? .low }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    static var colorAllowedByEnvironment: Bool {
        ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    /// A progress line on stderr, only when stderr is a terminal and --quiet is not given.
    func progressLine(label: String) -> ProgressLine? {
        guard !quiet, Self.stderrIsTerminal else { return nil }
        return ProgressLine(label: label)
    }

    func reporter(toolVersion: String, baselineApplied: Bool) -> Reporter {
        switch format {
        case .json: return JSONReporter()
        case .jsonl: return JSONLinesReporter()
        case .sarif: return SARIFReporter(toolVersion: toolVersion, baselineApplied: baselineApplied)
        case .text:
            let toTerminal = output == nil && isatty(STDOUT_FILENO) != 0
            return TextReporter(color: toTerminal && !noColor && Self.colorAllowedByEnvironment)
        }
    }

    /// Writes the report to --output (0600, atomically) or standard output.
    func deliver(_ text: String) throws {
        if let output {
            do {
                try PrivateFile.write(Array(text.utf8), to: output)
            } catch {
                throw CLIError("cannot write report to \(output): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
