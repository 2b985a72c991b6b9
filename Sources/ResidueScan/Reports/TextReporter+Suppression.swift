import Foundation

extension TextReporter {
    /// `; 2 suppressed (.residue.toml), 5 already in the baseline` — what the report does not
    /// list as leaks is still counted where people look.
    func suppressionNote(_ summary: ScanSummary) -> String {
        var parts: [String] = []
        if summary.suppressed > 0 { parts.append("\(summary.suppressed) suppressed by .residue.toml") }
        if summary.baselined > 0 { parts.append("\(summary.baselined) already in the baseline") }
        guard !parts.isEmpty else { return "" }
        return "; " + parts.joined(separator: ", ") + " (--format json lists them with their reasons)"
    }
}
