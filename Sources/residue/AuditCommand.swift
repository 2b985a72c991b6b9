import ArgumentParser
import Foundation
import ResidueImage
import ResidueRules
import ResidueScan

enum AuditFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, json, text
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan every image of a registry (or the selected repositories and tags).",
        discussion: """
        Lists repositories (/v2/_catalog) and tags, scans every selected image (all platforms) and \
        reads each unique layer once across the whole audit, and not again in the next one: \
        layer results are cached as for `residue scan` (--cache-dir, --no-cache). With --format jsonl (the default) \
        each image is one JSON line as soon as it finishes, then a summary line: an interrupted \
        audit leaves a report that --resume continues.

        Sharding: --shard I/N takes the repositories whose stable hash is I modulo N (0 <= I < N); \
        --shard N alone reads I from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job, see \
        deploy/kubernetes/audit-job.yaml). `residue report merge` joins the shards' reports.

        Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 an image could not be scanned \
        or the audit could not run.
        """
    )

    @Argument(help: "The registry, e.g. registry.example.com or 127.0.0.1:5000.")
    var registry: String

    @Option(name: .long, help: "Only repositories matching this glob (repeatable; `*` also matches `/`).")
    var repo: [String] = []

    @Option(name: .long, help: "Only tags matching this glob.")
    var tag: String?

    @Option(name: .long, help: "Only the N highest tags of each repository (natural order: 1.10 after 1.9).")
    var maxTags: Int?

    @Option(name: .long, help: "This worker's share: I/N, or N to read I from $JOB_COMPLETION_INDEX.")
    var shard: String?

    @Option(name: .long, help: "Images scanned at once (each reads one layer at a time).")
    var concurrency: Int = 4

    @Option(name: .long, help: "An earlier report of this audit: its finished images are not scanned again.")
    var resume: String?

    @Option(name: .long, help: "jsonl (one line per image, then a summary), json or text.")
    var format: AuditFormat = .jsonl

    @Option(name: .long, help: "Write the report to this file (mode 0600); jsonl lines are written as images finish.")
    var output: String?

    @Flag(name: .long, help: "Print secrets in clear instead of redacted.")
    var showSecrets = false

    @Option(name: .long, help: "Scan only this platform, as os/arch[/variant].")
    var platform: String?

    @Option(name: .long, help: "Exit 1 when a finding is at or above this severity.")
    var failOn: Severity = .low

    @Option(name: .long, help: "An extra rule file (TOML); repeat for more.")
    var rules: [String] = []

    @Option(name: .long, help: "Hide findings rated below this confidence: low, medium, high (default: show all); hidden ones are counted in each image's summary. Page on high, archive the rest.")
    var minConfidence: Confidence?

    @OptionGroup(title: "Registries") var registryOptions: RegistryOptions

    @OptionGroup(title: "Layer cache") var cacheOptions: CacheOptions

    func parsedShard() throws -> Shard? {
        guard let shard else { return nil }
        if let parsed = Shard(shard) { return parsed }
        if let count = Int(shard), count >= 1 {
            guard let text = ProcessInfo.processInfo.environment["JOB_COMPLETION_INDEX"], let index = Int(text),
                  (0..<count).contains(index) else {
                throw CLIError("--shard \(shard): without an index, $JOB_COMPLETION_INDEX must hold one in 0..<\(count)")
            }
            return Shard(index: index, count: count)
        }
        throw CLIError("--shard \(shard): expected I/N with 0 <= I < N, or N")
    }

    func run() throws {
        var scanOptions = ScanOptions()
        scanOptions.showSecrets = showSecrets
        scanOptions.registry = try registryOptions.settings()
        if let platform {
            guard let parsed = Platform(platform) else { throw CLIError("--platform \(platform): expected os/arch[/variant]") }
            scanOptions.platform = parsed
        }
        guard concurrency >= 1 else { throw CLIError("--concurrency: at least 1") }
        if let maxTags, maxTags < 1 { throw CLIError("--max-tags: at least 1") }
        let ruleSet: RuleSet
        do { ruleSet = try RuleSet.defaults(extraFiles: rules) } catch { throw CLIError("\(error)") }
        var options = AuditOptions(registry: registry)
        options.repositories = repo
        options.tag = tag
        options.maxTags = maxTags
        options.shard = try parsedShard()
        options.concurrency = concurrency
        options.minConfidence = minConfidence
        if let resume {
            let earlier: AuditReport
            do { earlier = try AuditReport.read(path: resume) } catch { throw CLIError("--resume: \(error)") }
            for record in earlier.images where record.status == .scanned { options.resumed[record.key] = record }
        }
        cacheOptions.apply(to: &scanOptions, ruleSet: ruleSet)
        let auditor = Auditor(ruleSet: ruleSet, scanOptions: scanOptions, options: options)
        let plan: [(repository: String, tag: String)]
        do { plan = try auditor.plan() } catch { throw CLIError("\(error)") }

        let sink = try ReportSink(path: output)
        let format = self.format
        let progress = isatty(STDERR_FILENO) != 0 ? { @Sendable (done: Int, total: Int, record: AuditRecord) in
            let state = record.status == .failed ? "failed" : "\(record.report?.findings.count ?? 0) findings"
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(done)/\(total)] \(record.repository):\(record.tag) \(state)".utf8))
        } : nil
        let summary = auditor.run(plan: plan, emit: { record in
            if format == .jsonl { sink.write(AuditOutput.line(record)) }
        }, progress: progress)
        if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let records = auditor.recordsSoFar
        switch format {
        case .jsonl: sink.write(AuditOutput.line(summary))
        case .json: sink.write(try AuditOutput.document(AuditReport(images: AuditReport.merge([AuditReport(images: records, summary: nil)]).images, summary: summary)))
        case .text: sink.write(try AuditOutput.text(AuditReport(images: records.sorted { ($0.repository, $0.tag) < ($1.repository, $1.tag) }, summary: summary)))
        }
        sink.close()
        for record in records where record.status == .failed {
            FileHandle.standardError.write(Data("residue: \(record.error ?? "\(record.reference): failed")\n".utf8))
        }
        if !summary.complete { throw ExitCode(2) }
        if records.contains(where: { $0.report?.hasFindings(atOrAbove: failOn) ?? false }) { throw ExitCode(1) }
    }
}

/// Where a report goes: a file (0600, created before the first line) or standard output.
final class ReportSink: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private let isFile: Bool

    init(path: String?) throws {
        guard let path else {
            handle = FileHandle.standardOutput
            isFile = false
            return
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CLIError("cannot write report to \(path): \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        isFile = true
    }

    func write(_ text: String) { lock.withLock { handle.write(Data(text.utf8)) } }
    func close() { if isFile { try? handle.synchronize() } }
}

/// Formats audit reports (shared by `audit` and `report merge`).
enum AuditOutput {
    static func line<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) + "\n"
    }

    static func document(_ report: AuditReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    static func jsonl(_ report: AuditReport) -> String {
        report.images.map { line($0) }.joined() + (report.summary.map { line($0) } ?? "")
    }

    static func text(_ report: AuditReport) throws -> String {
        var out = ""
        for record in report.images {
            switch record.status {
            case .failed:
                out += "FAILED  \(record.reference): \(record.error ?? "")\n"
            case .scanned:
                guard let scan = record.report else { continue }
                if scan.findings.isEmpty {
                    out += "clean   \(record.reference)\n"
                } else {
                    out += "\n" + (try TextReporter(color: false).render(scan)) + "\n"
                }
            }
        }
        if let summary = report.summary {
            out += "\n\(summary.images) images (\(summary.scanned) scanned, \(summary.failed) failed), \(summary.findings) secrets found"
            let counts = Severity.allCases.reversed().compactMap { severity -> String? in
                let count = summary.bySeverity[severity.rawValue] ?? 0
                return count > 0 ? "\(count) \(severity.rawValue)" : nil
            }
            if !counts.isEmpty { out += " (\(counts.joined(separator: ", ")))" }
            if let walked = summary.layersWalked {
                out += "; \(walked) layers read, \(summary.layersReused ?? 0) reused, \(summary.layersFromCache ?? 0) from the cache"
            }
            out += summary.complete ? "\n" : "\nINCOMPLETE: not every selected image was scanned\n"
        }
        return out
    }
}
