import Foundation

/// The fingerprints of an earlier report: `--baseline REPORT` reports only what is new, so a
/// team can adopt residue on old images and still gate every new leak.
///
/// Reads residue's JSON report (`findings` and `suppressed`, so a report made with a baseline
/// still carries the whole baseline forward), its JSON Lines report, and its SARIF (the
/// `residue/v1` partial fingerprints).
public struct Baseline: Sendable {
    public let path: String
    public let fingerprints: Set<String>

    public init(path: String, fingerprints: Set<String>) {
        self.path = path
        self.fingerprints = fingerprints
    }

    public func contains(_ fingerprint: String) -> Bool { fingerprints.contains(fingerprint) }

    public static func load(path: String) throws -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read baseline report")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> Baseline {
        var fingerprints = Set<String>()
        if let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let runs = root["runs"] as? [[String: Any]] {
                for run in runs {
                    for result in run["results"] as? [[String: Any]] ?? [] {
                        if let partial = result["partialFingerprints"] as? [String: Any],
                           let value = partial[SARIFReporter.fingerprintKey] as? String {
                            fingerprints.insert(SARIFReporter.fingerprint(fromPartial: value))
                        }
                    }
                }
            } else if root["findings"] != nil || root["suppressed"] != nil {
                collect(root, into: &fingerprints)
            } else {
                throw ConfigError("\(path): not a residue report (no findings, no SARIF runs)")
            }
            return Baseline(path: path, fingerprints: fingerprints)
        }
        // JSON Lines: one record per line.
        var lines = 0
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
            guard let record = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw ConfigError("\(path): not a residue report (neither JSON nor JSON Lines)")
            }
            lines += 1
            if let fingerprint = record["fingerprint"] as? String { fingerprints.insert(fingerprint) }
            if let finding = record["finding"] as? [String: Any], let fingerprint = finding["fingerprint"] as? String {
                fingerprints.insert(fingerprint)
            }
        }
        if lines == 0 { throw ConfigError("\(path): empty baseline report") }
        return Baseline(path: path, fingerprints: fingerprints)
    }

    private static func collect(_ report: [String: Any], into fingerprints: inout Set<String>) {
        for finding in report["findings"] as? [[String: Any]] ?? [] {
            if let fingerprint = finding["fingerprint"] as? String { fingerprints.insert(fingerprint) }
        }
        for entry in report["suppressed"] as? [[String: Any]] ?? [] {
            if let finding = entry["finding"] as? [String: Any], let fingerprint = finding["fingerprint"] as? String {
                fingerprints.insert(fingerprint)
            }
        }
    }
}
