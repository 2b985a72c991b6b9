import Foundation
import ResidueRules

/// Text and JSON for `residue dockerfile`: one block per finding, `PATH:LINE` first, so
/// editors and terminals can jump to it.
public enum DockerfileReporter {
    public static func json(_ report: DockerfileReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    struct FixOutput: Encodable {
        let report: DockerfileReport
        let fix: Fix
        struct Fix: Encodable {
            let fixed: Int
            let fixedLines: [Int]
            let skipped: [DockerfileFix.Skipped]
            let buildFlags: [String]
            let buildCommand: String
            let needs: [String]
            let diff: String?
            let changed: Bool
        }
    }

    public static func fixJSON(_ report: DockerfileReport, _ fix: DockerfileFix, diff: String?, command: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let output = FixOutput(report: report, fix: .init(fixed: fix.fixed, fixedLines: fix.fixedLines, skipped: fix.skipped,
                                                          buildFlags: fix.buildFlags, buildCommand: command, needs: fix.needs,
                                                          diff: diff, changed: fix.changed))
        return String(decoding: try encoder.encode(output), as: UTF8.self) + "\n"
    }

    static func paint(_ text: String, _ code: String, _ color: Bool) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    public static func text(_ report: DockerfileReport, color: Bool) -> String {
        var out = paint("residue", "1", color) + " checked \(report.dockerfile)"
        out += " — \(report.stages.count) stage\(report.stages.count == 1 ? "" : "s")"
        if let context = report.context {
            out += ", context \(context.path) (\(context.files) file\(context.files == 1 ? "" : "s")"
            if let ignore = context.ignoreFile { out += ", \((ignore as NSString).lastPathComponent) applied" }
            if context.truncated { out += ", stopped after \(context.files)" }
            out += ")"
        } else {
            out += ", build context not read"
        }
        out += "\n"
        for finding in report.findings {
            let severity = finding.severity.rawValue.uppercased()
            let code = finding.severity == .critical ? "1;31" : finding.severity == .high ? "31" : finding.severity == .medium ? "33" : "36"
            out += "\n" + paint("\(report.dockerfile):\(finding.line)", "1", color) + "  " + paint(severity, code, color) + "  \(finding.ruleId)  \(finding.title)\n"
            out += "    \(truncate(finding.instruction, 110))\n"
            if let stage = finding.stage, !stage.inFinalImage {
                out += "    stage:   \(stage.name ?? "#\(stage.index)") (not in the final image)\n"
            }
            if let secret = finding.secret { out += "    secret:  \(secret)\n" }
            out += "    why:     \(finding.message)\n"
            out += "    fix:     \(finding.fix)\(finding.fixable ? "  [--fix rewrites this]" : "")\n"
        }
        out += "\n" + summary(report, color: color) + "\n"
        return out
    }

    static func summary(_ report: DockerfileReport, color: Bool) -> String {
        let summary = report.summary
        if summary.findings == 0 { return paint("No leaks found", "32", color) }
        let counts = Severity.allCases.reversed().compactMap { severity -> String? in
            let count = summary.bySeverity[severity.rawValue] ?? 0
            return count > 0 ? "\(count) \(severity.rawValue)" : nil
        }
        var line = paint("\(summary.findings) leak\(summary.findings == 1 ? "" : "s") found", "1", color) + " (\(counts.joined(separator: ", ")))"
        if summary.fixable > 0 { line += "; \(summary.fixable) fixable with --fix" }
        if !summary.secretsShown && report.findings.contains(where: { $0.secret != nil }) { line += "; secrets redacted (--show-secrets to reveal)" }
        return line
    }

    public static func fixSummary(_ report: DockerfileReport, _ fix: DockerfileFix, command: String, wrote: String?) -> String {
        var out = ""
        if let wrote { out += "residue: fixed \(fix.fixed) of \(report.findings.count) finding\(report.findings.count == 1 ? "" : "s"); wrote \(wrote)\n" }
        else { out += "residue: \(fix.changed ? "the fix rewrites" : "nothing to rewrite for") \(fix.fixed) of \(report.findings.count) finding\(report.findings.count == 1 ? "" : "s")\n" }
        for skipped in fix.skipped {
            out += "  not fixed: line \(skipped.line) \(skipped.ruleId): \(skipped.reason)\n"
        }
        if !fix.buildFlags.isEmpty {
            out += "Build with:\n  \(command)\n"
            for need in fix.needs { out += "  needs: \(need)\n" }
        }
        return out
    }

    static func truncate(_ text: String, _ limit: Int) -> String {
        let single = text.replacingOccurrences(of: "\n", with: " ")
        return single.count > limit ? String(single.prefix(limit - 1)) + "…" : single
    }
}
