import Foundation

/// JSON Lines for streaming consumers (`jq -c`, log shippers): one object per line. Each
/// finding is a line `{"type":"finding", "target": REF, …the finding's JSON fields…}`, each
/// suppressed finding `{"type":"suppressed", "reason", "by", "finding": {…}}`, and the last
/// line is `{"type":"summary", "target": {…}, "summary": {…}}`. Keys are sorted, so equal
/// scans give byte-identical output.
public struct JSONLinesReporter: Reporter {
    public init() {}

    public func render(_ report: ScanReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = ""
        func line(_ object: [String: Any]) throws {
            out += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
        }
        func object<T: Encodable>(_ value: T) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: encoder.encode(value)) as? [String: Any] ?? [:]
        }
        for finding in report.findings {
            var record = try object(finding)
            record["type"] = "finding"
            record["target"] = report.target.reference
            try line(record)
        }
        for suppressed in report.suppressed {
            var record = try object(suppressed)
            record["type"] = "suppressed"
            record["target"] = report.target.reference
            try line(record)
        }
        try line(["type": "summary", "target": try object(report.target), "summary": try object(report.summary)])
        return out
    }
}
