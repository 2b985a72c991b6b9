import Foundation
import ResidueRules

/// One image of an audit, as it finished: one line of the JSON Lines report.
public struct AuditRecord: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case scanned, failed }
    public var type = "image"
    public var repository: String
    public var tag: String
    /// `docker://REGISTRY/REPO:TAG`
    public var reference: String
    /// The digest the tag pointed to when scanned (a resumed audit rescans a tag that moved).
    public var digest: String?
    public var status: Status
    /// Why the image could not be scanned (one line, no secret).
    public var error: String?
    public var report: ScanReport?

    public init(repository: String, tag: String, reference: String, digest: String?, status: Status,
                error: String?, report: ScanReport?) {
        self.repository = repository
        self.tag = tag
        self.reference = reference
        self.digest = digest
        self.status = status
        self.error = error
        self.report = report
    }

    public var key: String { "\(repository):\(tag)" }
}

/// The last line of a report: totals, and whether the audit covered everything it selected.
public struct AuditSummary: Codable, Sendable, Equatable {
    public var type = "summary"
    public var registry: String?
    public var images: Int
    public var scanned: Int
    public var failed: Int
    public var findings: Int
    public var bySeverity: [String: Int]
    /// False when an image failed, the audit was cut short, or (after a merge) a shard is missing.
    public var complete: Bool
    /// `I/N` for one shard's report; nil for a whole audit or a merge.
    public var shard: String?
    /// Run statistics (not merged: they depend on how the work was split).
    public var layersWalked: Int?
    public var layersReused: Int?
    /// Layers answered by the on-disk layer cache (earlier runs), not read from the registry.
    public var layersFromCache: Int?
    public var imagesResumed: Int?

    public static func totals(of records: [AuditRecord], registry: String?, complete: Bool) -> AuditSummary {
        var bySeverity: [String: Int] = [:]
        for severity in Severity.allCases { bySeverity[severity.rawValue] = 0 }
        var findings = 0
        for record in records {
            for finding in record.report?.findings ?? [] {
                findings += 1
                bySeverity[finding.severity.rawValue, default: 0] += 1
            }
        }
        let failed = records.filter { $0.status == .failed }.count
        return AuditSummary(registry: registry, images: records.count, scanned: records.count - failed, failed: failed,
                            findings: findings, bySeverity: bySeverity, complete: complete && failed == 0)
    }
}

/// A whole audit report: every image, then the summary. Read from JSON Lines (as written while
/// the audit runs; a cut-off last line is ignored) or from the `--format json` document.
public struct AuditReport: Codable, Sendable {
    public var images: [AuditRecord]
    public var summary: AuditSummary?

    public init(images: [AuditRecord], summary: AuditSummary?) {
        self.images = images
        self.summary = summary
    }

    public static func read(path: String) throws -> AuditReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScanError("\(path): cannot read the report")
        }
        let decoder = JSONDecoder()
        if let whole = try? decoder.decode(AuditReport.self, from: data) { return whole }
        var images: [AuditRecord] = []
        var summary: AuditSummary?
        var sawLine = false
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            sawLine = true
            if let record = try? decoder.decode(AuditRecord.self, from: Data(line)), record.type == "image" {
                images.append(record)
            } else if let total = try? decoder.decode(AuditSummary.self, from: Data(line)), total.type == "summary" {
                summary = total
            }
        }
        if sawLine && images.isEmpty && summary == nil {
            throw ScanError("\(path): not an audit report (JSON Lines of images and a summary)")
        }
        return AuditReport(images: images, summary: summary)
    }

    /// Joins the reports of an audit's shards (or of a resumed audit): one record per image,
    /// sorted, totals recomputed. Complete only when every input finished and, for shards, every
    /// shard `0..<N` is there.
    public static func merge(_ reports: [AuditReport]) -> AuditReport {
        var byKey: [String: AuditRecord] = [:]
        for report in reports {
            for record in report.images {
                if let existing = byKey[record.key], existing.status == .scanned, record.status == .failed { continue }
                byKey[record.key] = record
            }
        }
        let images = byKey.values.sorted { ($0.repository, $0.tag) < ($1.repository, $1.tag) }
        var complete = reports.allSatisfy { $0.summary?.complete ?? false }
        let shards = reports.compactMap { $0.summary?.shard }
        if !shards.isEmpty {
            let parsed = shards.compactMap(Shard.init)
            let counts = Set(parsed.map(\.count))
            if parsed.count != reports.count || counts.count != 1 || Set(parsed.map(\.index)) != Set(0..<(counts.first ?? 0)) {
                complete = false
            }
        }
        let registry = Set(reports.compactMap { $0.summary?.registry })
        return AuditReport(images: images,
                           summary: .totals(of: images, registry: registry.count == 1 ? registry.first : nil, complete: complete))
    }

    public var hasFailures: Bool { !(summary?.complete ?? false) }

    public func hasFindings(atOrAbove threshold: Severity) -> Bool {
        images.contains { $0.report?.hasFindings(atOrAbove: threshold) ?? false }
    }
}

/// `--shard I/N`: this worker takes the repositories whose stable hash is I modulo N.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            return nil
        }
        self.index = index
        self.count = count
    }

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// FNV-1a, 64 bits: the same name lands on the same shard on every machine and run
    /// (Swift's `hashValue` is seeded per process).
    public static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100000001b3
        }
        return hash
    }

    public func owns(_ repository: String) -> Bool { Self.stableHash(repository) % UInt64(count) == UInt64(index) }
}
