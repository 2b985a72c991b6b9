import Foundation
import ResidueRules

/// Formats a report. Reporters only format: every decision was made by the scan.
public protocol Reporter {
    func render(_ report: ScanReport) throws -> String
}

public struct JSONReporter: Reporter {
    public init() {}

    public func render(_ report: ScanReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }
}

/// Human-readable: grouped by image and layer, each finding with the instruction that caused
/// it, its status, the redacted secret and the fix.
public struct TextReporter: Reporter {
    let color: Bool

    public init(color: Bool) { self.color = color }

    func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func severityLabel(_ severity: Severity) -> String {
        let label = severity.rawValue.uppercased()
        switch severity {
        case .critical: return paint(label, "1;31")
        case .high: return paint(label, "31")
        case .medium: return paint(label, "33")
        case .low: return paint(label, "36")
        }
    }

    public func render(_ report: ScanReport) throws -> String {
        var out = ""
        let target = report.target
        out += paint("residue", "1") + " scanned \(target.reference)"
        out += " — \(target.images.count) image\(target.images.count == 1 ? "" : "s"), \(report.summary.layersScanned) layer\(report.summary.layersScanned == 1 ? "" : "s"), \(report.summary.filesScanned) files\n"

        if let match = report.dockerfile {
            for image in match.images {
                out += (match.images.count > 1 ? "\(image.platform ?? ""): " : "") + "Dockerfile \(match.path): \(image.note)\n"
            }
        }
        let byPlatform = Dictionary(grouping: report.findings) { $0.location.platform ?? "" }
        for image in target.images {
            let findings = byPlatform[image.platform ?? ""] ?? []
            out += "\n" + paint("Image \(image.platform ?? "(no platform)")", "1")
            out += "  config \(image.configDigest.prefix(19))"
            if !image.names.isEmpty { out += "  \(image.names.joined(separator: ", "))" }
            out += "\n"
            if findings.isEmpty {
                out += "  no secrets found\n"
                continue
            }
            let metadata = findings.filter { $0.location.kind != .layerFile }
            if !metadata.isEmpty {
                out += "\n  " + paint("Config and build history", "1") + "\n"
                for finding in metadata { out += describe(finding) }
            }
            for layer in image.layers {
                let inLayer = findings.filter { $0.location.kind == .layerFile && $0.location.layerIndex == layer.index }
                if inLayer.isEmpty { continue }
                out += "\n  " + paint("Layer \(layer.index)", "1") + " \(layer.digest.prefix(19))"
                if let instruction = layer.instruction { out += "  " + paint(truncate(instruction, 100), "2") }
                out += "\n"
                for finding in inLayer { out += describe(finding) }
            }
        }
        out += "\n" + summaryLine(report) + "\n"
        return out
    }

    func describe(_ finding: Finding) -> String {
        let location = finding.location
        var head = "    \(severityLabel(finding.severity))  \(finding.ruleId)  \(finding.title)"
        if let status = location.status, status != .present {
            head += "  " + paint("[\(status.rawValue)]", "35")
        }
        // Every finding says how sure it is (what --min-confidence filters on); low confidence (a
        // failed checksum, a generic rule, example material) is said, not hidden.
        if let confidence = finding.confidence {
            head += "  " + paint("[\(confidence.rawValue) confidence]", "2")
        }
        var lines = [head]
        if finding.confidence == .low, let note = finding.confidenceNote {
            lines.append("      why low: \(note)")
        }
        var place: String
        switch location.kind {
        case .layerFile:
            place = location.path ?? ""
            if let line = location.line { place += ":\(line)" }
        case .history:
            place = "history #\(location.historyIndex ?? 0)" + (location.key.map { " (\($0))" } ?? "")
        case .configEnv: place = "config Env \(location.key ?? "")"
        case .configLabel: place = "config Label \(location.key ?? "")"
        case .configCmd: place = "config Cmd/Entrypoint"
        case .configOther: place = "config \(location.field ?? "")"
        }
        lines.append("      where:   \(place)")
        if let source = location.dockerfile { lines.append("      line:    \(source.path):\(source.line)") }
        if let instruction = location.instruction, location.kind != .layerFile {
            lines.append("      from:    \(truncate(instruction, 110))")
        }
        lines.append("      secret:  \(finding.secret)")
        if let others = finding.alsoAt, !others.isEmpty {
            let described = others.prefix(5).map { other -> String in
                switch other.kind {
                case .history: return "history #\(other.historyIndex ?? 0)"
                case .layerFile: return "\(other.path ?? "")\(other.line.map { ":\($0)" } ?? "")"
                default: return other.kind.rawValue + (other.key.map { " \($0)" } ?? "")
                }
            }
            lines.append("      also at: \(described.joined(separator: ", "))\(others.count > 5 ? ", …" : "")")
        }
        let fix = finding.remediation.split(separator: "\n", omittingEmptySubsequences: false)
        lines.append("      fix:     \(fix.first ?? "")")
        for line in fix.dropFirst() { lines.append("               \(line)") }
        return lines.joined(separator: "\n") + "\n"
    }

    func truncate(_ text: String, _ limit: Int) -> String {
        let single = text.replacingOccurrences(of: "\n", with: " ")
        return single.count > limit ? String(single.prefix(limit - 1)) + "…" : single
    }

    func summaryLine(_ report: ScanReport) -> String {
        let summary = report.summary
        if summary.findings == 0 {
            return paint("No secrets found", "32") + suppressionNote(summary) + skippedNote(summary)
        }
        let counts = Severity.allCases.reversed().compactMap { severity -> String? in
            let count = summary.bySeverity[severity.rawValue] ?? 0
            return count > 0 ? "\(count) \(severity.rawValue)" : nil
        }
        var line = paint("\(summary.findings) secret\(summary.findings == 1 ? "" : "s") found", "1") + " (\(counts.joined(separator: ", ")))"
        if !summary.secretsShown { line += "; secrets redacted (--show-secrets to reveal)" }
        return line + suppressionNote(summary) + skippedNote(summary)
    }

    func skippedNote(_ summary: ScanSummary) -> String {
        var note = ""
        for warning in summary.warnings { note += "\nwarning: \(warning)" }
        guard !summary.skipped.isEmpty else { return note }
        note += "\nSkipped \(summary.skipped.count) item\(summary.skipped.count == 1 ? "" : "s"):"
        for item in summary.skipped.prefix(10) {
            note += "\n  skipped: \(item.path ?? item.layerDigest ?? ""): \(item.reason)"
        }
        return note
    }
}
