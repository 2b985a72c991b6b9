import Foundation

extension TextReporter {
    /// `; 2 suppressed (.residue.toml), 5 already in the baseline, 7 hidden below --min-confidence` — what the report does not
    /// list as leaks is still counted where people look.
    func suppressionNote(_ summary: ScanSummary) -> String {
        var parts: [String] = []
        if summary.suppressed > 0 { parts.append("\(summary.suppressed) suppressed by .residue.toml") }
        if summary.baselined > 0 { parts.append("\(summary.baselined) already in the baseline") }
        if summary.belowConfidence > 0 { parts.append("\(summary.belowConfidence) hidden below --min-confidence") }
        guard !parts.isEmpty else { return "" }
        return "; " + parts.joined(separator: ", ") + " (--format json lists them with their reasons)"
    }
}
