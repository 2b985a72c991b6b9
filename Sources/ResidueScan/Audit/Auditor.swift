import Foundation
import ResidueArchive
import ResidueImage
import ResidueRules

/// What an audit covers and how it runs.
public struct AuditOptions: Sendable {
    public var registry: String
    /// Repository globs (`team/*`; `*` also matches `/`). Empty: every repository.
    public var repositories: [String] = []
    public var tag: String?
    /// Keep the N highest tags of each repository (in natural order: 1.10 after 1.9).
    public var maxTags: Int?
    public var shard: Shard?
    /// Images scanned at once; each reads one layer at a time, so at most this many blobs are
    /// downloaded and walked at once.
    public var concurrency = 4
    /// Images of an earlier (interrupted) run that need no second scan, by `repo:tag`.
    public var resumed: [String: AuditRecord] = [:]
    /// Findings rated below this are hidden from each image's report (counted in its summary).
    public var minConfidence: Confidence?

    public init(registry: String) { self.registry = registry }
}

/// Audits a registry: lists repositories and tags, scans every selected image (all platforms),
/// each unique layer once across the whole audit, and reports each image as it finishes.
public final class Auditor: @unchecked Sendable {
    let ruleSet: RuleSet
    let scanOptions: ScanOptions
    let options: AuditOptions
    let client: RegistryClient
    let layers: AuditLayerStore
    private var sink: RecordSink?

    /// The records of the last `run`, in the order they finished.
    public var recordsSoFar: [AuditRecord] { sink?.records ?? [] }

    public init(ruleSet: RuleSet, scanOptions: ScanOptions, options: AuditOptions) {
        self.ruleSet = ruleSet
        self.scanOptions = scanOptions
        self.options = options
        // The on-disk cache (scanOptions.layerStore, from --cache-dir) backs the audit's own
        // store: a nightly audit reads only the layers pushed since the last one.
        layers = AuditLayerStore(backing: scanOptions.layerStore)
        client = RegistryClient(registry: RegistryReference.normalizeRegistry(options.registry), settings: scanOptions.registry)
    }

    /// The images this worker will scan: repositories from the catalog matching the globs and in
    /// this shard, then their tags. Deterministic: sorted, same input → same list.
    public func plan() throws -> [(repository: String, tag: String)] {
        let repositories = try client.catalog()
            .filter { name in options.repositories.isEmpty || options.repositories.contains { fnmatch($0, name, 0) == 0 } }
            .filter { options.shard?.owns($0) ?? true }
            .sorted()
        var items: [(String, String)] = []
        for repository in repositories {
            var tags = try client.tags(repository: repository)
                .filter { tag in options.tag.map { fnmatch($0, tag, 0) == 0 } ?? true }
                .sorted(by: Self.naturalOrder)
            if let maxTags = options.maxTags, tags.count > maxTags { tags = Array(tags.suffix(maxTags)) }
            items += tags.map { (repository, $0) }
        }
        return items
    }

    /// `1.9` < `1.10`: runs of digits compare as numbers.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        func parts(_ text: String) -> [(Bool, String)] {
            var result: [(Bool, String)] = []
            for character in text {
                let digit = character.isASCII && character.isNumber
                if let last = result.last, last.0 == digit { result[result.count - 1].1.append(character) } else { result.append((digit, String(character))) }
            }
            return result
        }
        let (x, y) = (parts(a), parts(b))
        for (p, q) in zip(x, y) where p.1 != q.1 {
            if p.0 && q.0 {
                let (m, n) = (p.1.drop { $0 == "0" }, q.1.drop { $0 == "0" })
                if m.count != n.count { return m.count < n.count }
                if m != n { return m < n }
                continue
            }
            return p.1 < q.1
        }
        return x.count != y.count ? x.count < y.count : a < b
    }

    /// Runs the audit; `emit` receives each image's record as it finishes (from worker threads,
    /// one at a time). Returns the summary.
    public func run(plan items: [(repository: String, tag: String)], emit: @escaping @Sendable (AuditRecord) -> Void,
                    progress: (@Sendable (Int, Int, AuditRecord) -> Void)? = nil) -> AuditSummary {
        let output = RecordSink(emit: emit)
        sink = output
        var work: [(String, String)] = []
        var resumedCount = 0
        for item in items {
            if let earlier = options.resumed["\(item.repository):\(item.tag)"], earlier.status == .scanned,
               let digest = earlier.digest,
               (try? client.manifestDigest(repository: item.repository, reference: item.tag))?.description == digest {
                output.add(earlier)
                resumedCount += 1
            } else {
                work.append(item)
            }
        }
        let pending = work
        let total = items.count
        let next = Counter()
        let workers = max(1, min(options.concurrency, pending.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let position = next.increment()
                guard position < pending.count else { return }
                let (repository, tag) = pending[position]
                let record = scanImage(repository: repository, tag: tag)
                let done = output.add(record)
                progress?(done, total, record)
            }
        }
        var summary = AuditSummary.totals(of: output.records, registry: client.registry, complete: true)
        summary.shard = options.shard?.description
        summary.layersWalked = layers.walked
        summary.layersReused = layers.reused
        summary.layersFromCache = layers.fromCache
        summary.imagesResumed = resumedCount
        return summary
    }

    func scanImage(repository: String, tag: String) -> AuditRecord {
        let reference = RegistryReference(registry: client.registry, repository: repository, tag: tag, digest: nil)
        var record = AuditRecord(repository: repository, tag: tag, reference: reference.description, digest: nil,
                                 status: .failed, error: nil, report: nil)
        do {
            let source = RegistrySource(reference: reference, client: client)
            let (digest, images) = try source.resolveWithDigest(platform: scanOptions.platform)
            record.digest = digest.description
            try walkLayers(of: images)
            var options = scanOptions
            options.layerStore = layers
            options.parallelism = 1
            let imageReference = ImageReference(transport: .docker, location: reference.name)
            let report = try Scanner(ruleSet: ruleSet, options: options).scan(imageReference, source: ResolvedImagesSource(images))
            record.report = self.options.minConfidence == nil ? report
                : ReportPolicy(config: nil, baseline: nil, minConfidence: self.options.minConfidence).apply(to: report)
            record.status = .scanned
        } catch {
            record.error = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
        }
        return record
    }

    /// Walks the layers of an image that no one has walked yet. A layer another worker is
    /// walking is waited for — only after this worker walked all of its own claims, so two
    /// workers never wait for each other. A claim whose walk failed is released; a waiter then
    /// walks the layer itself.
    func walkLayers(of images: [ResolvedImage]) throws {
        let walker = LayerWalker(ruleSet: ruleSet, limits: scanOptions.limits)
        var seen = Set<Digest>()
        var unique: [LayerBlob] = []
        for image in images { for layer in image.layers where seen.insert(layer.digest).inserted { unique.append(layer) } }
        var busy: [LayerBlob] = []
        for layer in unique {
            switch layers.claim(layer.digest, wait: false) {
            case .known: continue
            case .claimed: try walk(layer, with: walker)
            case .busy: busy.append(layer)
            }
        }
        for layer in busy where layers.claim(layer.digest, wait: true) == .claimed {
            try walk(layer, with: walker)
        }
    }

    private func walk(_ layer: LayerBlob, with walker: LayerWalker) throws {
        do {
            layers.store(try walker.walk(layer))
        } catch {
            layers.abandon(layer.digest)
            throw error
        }
    }
}

/// The layer results of an audit, by digest, with claims so a layer is walked by one worker.
/// Backed by the on-disk cache when there is one: a layer it knows is not walked at all.
final class AuditLayerStore: LayerResultStore, @unchecked Sendable {
    enum Claim { case known, claimed, busy }
    private let condition = NSCondition()
    private var results: [Digest: LayerResult] = [:]
    private var inFlight = Set<Digest>()
    private let backing: LayerResultStore?
    private(set) var walked = 0
    private(set) var reused = 0
    /// Layers answered by the on-disk cache (each counted once).
    private(set) var fromCache = 0

    init(backing: LayerResultStore? = nil) { self.backing = backing }

    /// Cached results keep their secrets sealed: the scan masks them with the cache's sealer.
    var sealer: SecretSealer? { backing?.sealer }

    func claim(_ digest: Digest, wait: Bool) -> Claim {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if results[digest] != nil { reused += 1; return .known }
            if !inFlight.contains(digest), let cached = backing?.result(for: digest) {
                results[digest] = cached
                fromCache += 1
                return .known
            }
            if !inFlight.contains(digest) {
                inFlight.insert(digest)
                return .claimed
            }
            if !wait { return .busy }
            condition.wait()
        }
    }

    func abandon(_ digest: Digest) {
        condition.lock()
        inFlight.remove(digest)
        condition.broadcast()
        condition.unlock()
    }

    func result(for digest: Digest) -> LayerResult? {
        condition.lock()
        defer { condition.unlock() }
        return results[digest]
    }

    func store(_ result: LayerResult) {
        backing?.store(result)
        condition.lock()
        if results[result.digest] == nil { walked += 1 }
        results[result.digest] = result
        inFlight.remove(result.digest)
        condition.broadcast()
        condition.unlock()
    }
}

/// Records in the order they finished, handed on one at a time.
final class RecordSink: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var records: [AuditRecord] = []
    let emit: @Sendable (AuditRecord) -> Void

    init(emit: @escaping @Sendable (AuditRecord) -> Void) { self.emit = emit }

    @discardableResult
    func add(_ record: AuditRecord) -> Int {
        lock.withLock {
            records.append(record)
            emit(record)
            return records.count
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.withLock { defer { value += 1 }; return value } }
}
