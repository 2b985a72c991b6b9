import ArgumentParser
import Foundation
import ResidueRules
import ResidueScan

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with audit reports.",
        subcommands: [Merge.self]
    )

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join the reports of an audit's shards into one.",
            discussion: """
            Reads JSON Lines (or --format json) audit reports, keeps one record per image, sorts them \
            and recomputes the totals. The result is complete only when every input finished and, \
            for shards, every shard 0..N-1 is present. Exit codes as for audit.
            """)

        @Argument(help: "The reports to merge.")
        var reports: [String]

        @Option(name: .long, help: "jsonl, json or text.")
        var format: AuditFormat = .jsonl

        @Option(name: .long, help: "Write the merged report to this file (mode 0600).")
        var output: String?

        @Option(name: .long, help: "Exit 1 when a finding is at or above this severity.")
        var failOn: Severity = .low

        func run() throws {
            guard !reports.isEmpty else { throw CLIError("report merge: no reports given") }
            let inputs: [AuditReport]
            do { inputs = try reports.map(AuditReport.read) } catch { throw CLIError("\(error)") }
            let merged = AuditReport.merge(inputs)
            let text: String
            switch format {
            case .jsonl: text = AuditOutput.jsonl(merged)
            case .json: text = try AuditOutput.document(merged)
            case .text: text = try AuditOutput.text(merged)
            }
            let sink = try ReportSink(path: output)
            sink.write(text)
            sink.close()
            if merged.hasFailures { throw ExitCode(2) }
            if merged.hasFindings(atOrAbove: failOn) { throw ExitCode(1) }
        }
    }
}
