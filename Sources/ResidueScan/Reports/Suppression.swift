import Foundation
import ResidueRules

/// A finding that is not reported as a leak, and why. Kept in the report (JSON `suppressed`,
/// SARIF `suppressions`) and counted in the summary: never silently dropped.
public struct SuppressedFinding: Codable, Sendable {
    public enum Cause: String, Codable, Sendable {
        /// An `[[allowlist]]` entry of `.residue.toml` allows it.
        case allowlist
        /// Its fingerprint is in the `--baseline` report.
        case baseline
        /// Below the config's `min-severity`.
        case severity
        /// Below `--min-confidence` (or the config's `min-confidence`).
        case confidence
    }

    /// Why, in words: the allowlist entry's reason, or the baseline file, or the threshold.
    public var reason: String
    public var by: Cause
    /// The allowlist entry (1-based, in file order) for `by: allowlist`.
    public var entry: Int?
    public var finding: Finding
}

/// Applies a project's allowlists, severity threshold and a baseline to a report: what they
/// match moves from `findings` to `suppressed`, and the summary counts both.
public struct ReportPolicy: Sendable {
    public var config: ProjectConfig?
    public var baseline: Baseline?
    /// Findings rated below this are hidden (counted in the summary, listed in `suppressed`):
    /// `--min-confidence`, else the config's `min-confidence`, else none.
    public var minConfidence: Confidence?

    public init(config: ProjectConfig?, baseline: Baseline?, minConfidence: Confidence? = nil) {
        self.config = config
        self.baseline = baseline
        self.minConfidence = minConfidence ?? config?.minConfidence
    }

    public func apply(to report: ScanReport) -> ScanReport {
        var result = report
        let state = MatchState()
        var kept: [Finding] = []
        let disabledChecks = Set(config?.disabledRules ?? []).intersection(ProjectConfig.builtInChecks)
        for finding in report.findings {
            // A disabled built-in check is as if it had not run (like a disabled rule file rule).
            if disabledChecks.contains(finding.ruleId) { continue }
            if let suppression = suppression(of: finding, state: state) {
                var entry = suppression
                entry.finding.clearSecret = nil
                result.suppressed.append(entry)
            } else {
                kept.append(finding)
            }
        }
        result.findings = kept
        var bySeverity: [String: Int] = [:]
        for severity in Severity.allCases { bySeverity[severity.rawValue] = kept.filter { $0.severity == severity }.count }
        result.summary.findings = kept.count
        result.summary.bySeverity = bySeverity
        result.summary.suppressed = result.suppressed.filter { $0.by != .baseline && $0.by != .confidence }.count
        result.summary.baselined = result.suppressed.filter { $0.by == .baseline }.count
        result.summary.belowConfidence = result.suppressed.filter { $0.by == .confidence }.count
        return result
    }

    /// Whether an allowlist entry that can apply to findings of `ruleId` tests the secret itself
    /// (regexes, stopwords). The scan must then see each such secret in clear: a layer result
    /// the on-disk cache holds only sealed is walked again (`ScanOptions.needsClearSecret`).
    /// Paths, layers and fingerprints need no secret.
    public func needsClearSecret(ruleId: String) -> Bool {
        config?.allowlist.contains { entry in
            (entry.rules.isEmpty || entry.rules.contains(ruleId)) && (!entry.regexes.isEmpty || !entry.stopwords.isEmpty)
        } ?? false
    }

    /// The first reason that applies, in this order: allowlist, baseline, severity threshold.
    func suppression(of finding: Finding, state: MatchState) -> SuppressedFinding? {
        if let config {
            // The masked form only for a finding that has no clear secret (a report read back
            // from JSON, or a layer hit the cache kept sealed when nothing asked for it in clear).
            let secret = finding.clearSecret ?? finding.secret
            for entry in config.allowlist where entry.allows(finding, secret: secret, state: state) {
                return SuppressedFinding(reason: entry.reason, by: .allowlist, entry: entry.index, finding: finding)
            }
        }
        if let baseline, baseline.contains(finding.fingerprint) {
            return SuppressedFinding(reason: "in baseline \(baseline.path)", by: .baseline, entry: nil, finding: finding)
        }
        if let minimum = config?.minSeverity, finding.severity < minimum {
            return SuppressedFinding(reason: "below min-severity \(minimum.rawValue) (\(config?.path ?? ProjectConfig.defaultFileName))",
                                     by: .severity, entry: nil, finding: finding)
        }
        if let minimum = minConfidence, (finding.confidence ?? .medium) < minimum {
            return SuppressedFinding(reason: "below min-confidence \(minimum.rawValue)", by: .confidence, entry: nil, finding: finding)
        }
        return nil
    }
}
