import Dispatch
import Foundation
import ResidueArchive
import ResidueImage
import ResidueRules

public struct ScanOptions: Sendable {
    public var platform: Platform?
    public var showSecrets = false
    public var limits = ScanLimits()
    /// Layers scanned at once (default: one per core).
    public var parallelism = ProcessInfo.processInfo.activeProcessorCount
    /// Where results of layers already walked are found and kept (nil: walk every layer).
    public var layerStore: LayerResultStore?
    /// How to reach registries (`docker://`) and the daemon (`docker-daemon:`).
    public var registry = RegistrySettings()
    /// Told about layers as they finish (a progress line on a terminal); nil: nothing.
    public var progress: ScanProgressHandler?
    /// Whether something after the scan needs the secret of a finding of this rule in clear
    /// (`.residue.toml` allowlist regexes and stopwords: `ReportPolicy.needsClearSecret`). A
    /// layer whose stored result holds such a hit only sealed (the on-disk cache) is walked
    /// again; `showSecrets` does the same for every hit.
    public var needsClearSecret: @Sendable (_ ruleId: String) -> Bool = { _ in false }

    public init() {}
}

/// Runs a scan: resolve the image, read config and history, walk every layer (in parallel),
/// decide file status, group what was seen into findings. Formatting is the reporters' job.
public struct Scanner {
    let ruleSet: RuleSet
    let options: ScanOptions

    public init(ruleSet: RuleSet, options: ScanOptions) {
        self.ruleSet = ruleSet
        self.options = options
    }

    /// Scans what `reference` names; `source`, when given, is used instead of opening it.
    public func scan(_ reference: ImageReference, source: ImageSource? = nil) throws -> ScanReport {
        let images: [ResolvedImage]
        do {
            let source = try source ?? reference.openSource(registry: options.registry)
            if let streaming = source as? StreamingImageSource { return try scanStreamed(reference, streaming) }
            images = try source.resolve(platform: options.platform)
        } catch let error as ScanError {
            throw error
        } catch {
            throw ScanError("\(error)")
        }
        if images.isEmpty { throw ScanError("\(reference): holds no image") }
        let histories = images.map { ImageHistory(config: $0.config, layerCount: $0.layers.count) }

        // Config and history.
        let matcher = Matcher(ruleSet)
        var observations: [Observation] = []
        for (index, image) in images.enumerated() {
            observations += MetadataAnalyzer(matcher: matcher).analyze(image, history: histories[index], imageIndex: index)
        }

        // Layers: each unique blob once, in parallel.
        var uniqueLayers: [LayerBlob] = []
        var seen = Set<Digest>()
        for image in images {
            for layer in image.layers where seen.insert(layer.digest).inserted { uniqueLayers.append(layer) }
        }
        options.progress?(.started(images: images.count, layers: uniqueLayers.count))
        let results = try walkInParallel(uniqueLayers)
        var resultByDigest: [Digest: LayerResult] = [:]
        for result in results { resultByDigest[result.digest] = result }

        for (imageIndex, image) in images.enumerated() {
            let layerResults = image.layers.map { resultByDigest[$0.digest]! }
            let resolver = StatusResolver(layers: layerResults.map(\.changes))
            for (layerIndex, result) in layerResults.enumerated() {
                for hit in result.hits {
                    guard let rule = ruleSet.rule(id: hit.ruleId)?.rule else { continue }
                    var location = Location(kind: .layerFile)
                    location.platform = image.platform?.description
                    location.layerIndex = layerIndex
                    location.layerDigest = image.layers[layerIndex].digest.description
                    location.path = hit.path
                    location.line = hit.line
                    location.status = resolver.status(of: hit.containerPath, inLayer: layerIndex)
                    if let historyIndex = histories[imageIndex].historyIndex(forLayer: layerIndex) {
                        location.historyIndex = historyIndex
                        location.instruction = histories[imageIndex].instructions[historyIndex].text
                    }
                    // A hit from the on-disk cache has no secret in clear: it groups by its
                    // keyed hash, and brings the masked form, fingerprint and confidence that
                    // were decided while the secret was in clear.
                    var observation = Observation(ruleId: rule.id, title: rule.title, severity: rule.severity,
                                                  priority: rule.priority,
                                                  secret: hit.secret ?? "\u{0}sealed:" + (hit.sealed?.digest ?? hit.fingerprint),
                                                  location: location, imageIndex: imageIndex,
                                                  assessment: hit.assessment
                                                      ?? hit.secret.map { ConfidenceAssessor.assess(rule, secret: $0, path: hit.path) })
                    if hit.secret == nil {
                        observation.sealed = hit.sealed
                        observation.redacted = hit.redacted
                        observation.fingerprint = hit.fingerprint
                    }
                    observations.append(observation)
                }
            }
        }

        var redactor = Redactor(showSecrets: options.showSecrets)
        redactor.sealed = SealedSecrets(observations.compactMap { observation in observation.sealed.map { ($0, observation.redacted ?? "*****") } },
                                        sealer: options.layerStore?.sealer)
        // One set of secrets to mask (one Hyperscan database) for the findings and the layer list.
        let allSecrets = FindingAssembler.secretsToScrub(observations)
        let findings = FindingAssembler(histories: histories, redactor: redactor).assemble(observations, secrets: allSecrets)
        let target = ScanTarget(
            reference: reference.description, transport: reference.transport.rawValue,
            images: images.enumerated().map { index, image in
                ScannedImage(platform: image.platform?.description, manifestDigest: image.manifestDigest?.description,
                             configDigest: image.configDigest.description, names: image.names,
                             layers: image.layers.map { layer in
                                 let historyIndex = histories[index].historyIndex(forLayer: layer.index)
                                 return ScannedImage.Layer(
                                     index: layer.index, digest: layer.digest.description, diffID: layer.diffID?.description,
                                     historyIndex: historyIndex,
                                     instruction: historyIndex.map { redactor.scrub(histories[index].instructions[$0].text, secrets: allSecrets) })
                             })
            })
        var bySeverity: [String: Int] = [:]
        for severity in Severity.allCases { bySeverity[severity.rawValue] = findings.filter { $0.severity == severity }.count }
        let summary = ScanSummary(
            findings: findings.count, bySeverity: bySeverity, layersScanned: results.count,
            filesScanned: results.reduce(0) { $0 + $1.filesScanned },
            bytesScanned: results.reduce(0) { $0 + $1.bytesScanned },
            skipped: results.flatMap(\.skipped), warnings: zip(images, histories).compactMap(Self.historyWarning),
            rules: ruleSet.rules.count + 1, secretsShown: options.showSecrets)
        var report = ScanReport(findings: findings, target: target, summary: summary)
        report.resolvedImages = images
        return report
    }

    /// Says when the history does not line up with the layers (a hand-edited or squashed
    /// image): findings in unmatched layers then carry no instruction.
    static func historyWarning(_ image: ResolvedImage, _ history: ImageHistory) -> String? {
        let entries = (image.config.history ?? []).filter { !($0.empty_layer ?? false) }.count
        guard entries != image.layers.count, image.config.history != nil else { return nil }
        let name = image.platform?.description ?? image.configDigest.short
        if entries < image.layers.count {
            return "\(name): the history records \(entries) layer-making steps for \(image.layers.count) layers; layers \(entries)–\(image.layers.count - 1) are not attributed to an instruction"
        }
        return "\(name): the history records \(entries) layer-making steps for \(image.layers.count) layers; the extra history entries were matched to no layer"
    }

    /// Walks layers on `parallelism` threads; the first error fails the scan (no partial result).
    /// Layers the store already knows are not read again.
    func walkInParallel(_ layers: [LayerBlob]) throws -> [LayerResult] {
        let walker = LayerWalker(ruleSet: ruleSet, limits: options.limits)
        let store = options.layerStore
        let progress = options.progress
        let collector = ResultCollector(count: layers.count)
        var unknown: [Int] = []
        for (index, layer) in layers.enumerated() {
            // A stored result without secrets in clear cannot show them, nor let an allowlist
            // test them (`needsClearSecret`): walk that layer again.
            if let known = store?.result(for: layer.digest),
               !known.hits.contains(where: { $0.secret == nil && (options.showSecrets || options.needsClearSecret($0.ruleId)) }) {
                collector.store(known, at: index)
                progress?(.layerFinished(bytes: known.bytesScanned, files: known.filesScanned, cached: true))
            } else {
                unknown.append(index)
            }
        }
        // Largest layers first, each worker taking the next one when it is done: the scan ends
        // when the largest layer does, not when an unlucky worker's fixed share does.
        let pending = unknown.sorted { (layers[$0].size ?? 0, -$0) > (layers[$1].size ?? 0, -$1) }
        let workers = max(1, min(options.parallelism, pending.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while !collector.failed, let position = collector.nextPending(of: pending.count) {
                let index = pending[position]
                do {
                    let result = try walker.walk(layers[index])
                    store?.store(result)
                    collector.store(result, at: index)
                    progress?(.layerFinished(bytes: result.bytesScanned, files: result.filesScanned, cached: false))
                } catch {
                    collector.fail(error)
                }
            }
        }
        return try collector.results()
    }
}

/// Results from worker threads, guarded by a lock.
final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [LayerResult?]
    private var error: Error?
    private var taken = 0

    /// The next position in the pending list for a worker to walk, or nil when none are left.
    func nextPending(of count: Int) -> Int? {
        lock.withLock {
            guard taken < count else { return nil }
            taken += 1
            return taken - 1
        }
    }

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    var failed: Bool { lock.withLock { error != nil } }

    func store(_ result: LayerResult, at index: Int) { lock.withLock { slots[index] = result } }

    func fail(_ error: Error) { lock.withLock { if self.error == nil { self.error = error } } }

    func results() throws -> [LayerResult] {
        try lock.withLock {
            if let error { throw error }
            return slots.map { $0! }
        }
    }
}

/// Groups observations into findings: one per secret and place. History lines and config
/// entries that show the same secret are one finding (the classic builder repeats build
/// arguments on every RUN); a file is its own place.
struct FindingAssembler {
    let histories: [ImageHistory]
    let redactor: Redactor

    static func kindOrder(_ kind: Location.Kind) -> Int {
        switch kind {
        case .configEnv: return 0
        case .configLabel: return 1
        case .configCmd: return 2
        case .configOther: return 3
        case .history: return 4
        case .layerFile: return 5
        }
    }

    func assemble(_ observations: [Observation], secrets: SecretsToScrub) -> [Finding] {
        var groups: [String: [Observation]] = [:]
        var order: [String] = []
        for observation in observations {
            let location = observation.location
            let key = location.kind == .layerFile
                ? "file\u{0}\(location.layerDigest ?? "")\u{0}\(location.path ?? "")\u{0}\(observation.secret)"
                : "meta\u{0}\(observation.secret)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(observation)
        }
        var findings: [Finding] = []
        for key in order {
            let members = groups[key]!
            let best = members.max { a, b in
                if a.priority != b.priority { return a.priority < b.priority }
                let (ka, kb) = (Self.kindOrder(a.location.kind), Self.kindOrder(b.location.kind))
                if ka != kb { return ka > kb }
                let (pa, pb) = ((a.location.historyIndex ?? .max, a.location.line ?? .max), (b.location.historyIndex ?? .max, b.location.line ?? .max))
                if pa != pb { return pa > pb }
                return a.ruleId > b.ruleId
            }!
            var locations: [Location] = []
            for member in members where !locations.contains(member.location) { locations.append(member.location) }
            let primary = best.location
            let others = locations.filter { $0 != primary }.map { scrubbed($0, secrets: secrets) }
            let remediation = Remediation(history: histories[best.imageIndex]).text(ruleId: best.ruleId, location: primary)
            findings.append(Finding(
                ruleId: best.ruleId, title: best.title, severity: best.severity,
                secret: best.redacted ?? redactor.redact(best.secret, revealPrefix: best.priority.revealsPrefix),
                fingerprint: best.fingerprint ?? Fingerprint.make(ruleId: best.ruleId, location: primary, secret: best.secret),
                location: scrubbed(primary, secrets: secrets),
                alsoAt: others.isEmpty ? nil : others,
                remediation: redactor.scrub(remediation, secrets: secrets),
                confidence: best.assessment?.confidence ?? .medium,
                confidenceNote: best.assessment?.reason,
                // A sealed secret (from the on-disk cache) is only a grouping key, never a secret.
                clearSecret: best.sealed == nil ? best.secret : nil))
        }
        return findings.sorted(by: Self.reportOrder)
    }

    /// Every secret seen, longest first (so a secret inside a longer one is masked whole), and
    /// whether any vendor rule found it (its prefix may show).
    static func secretsToScrub(_ observations: [Observation]) -> SecretsToScrub {
        var reveal: [String: Bool] = [:]
        for observation in observations where observation.sealed == nil && !observation.secret.isEmpty {
            reveal[observation.secret] = (reveal[observation.secret] ?? false) || observation.priority.revealsPrefix
        }
        return SecretsToScrub(reveal.map { (secret: $0.key, revealPrefix: $0.value) }.sorted {
            $0.secret.utf8.count > $1.secret.utf8.count || ($0.secret.utf8.count == $1.secret.utf8.count && $0.secret < $1.secret)
        })
    }

    func scrubbed(_ location: Location, secrets: SecretsToScrub) -> Location {
        var copy = location
        copy.instruction = location.instruction.map { redactor.scrub($0, secrets: secrets) }
        return copy
    }

    /// Deterministic: by platform, then config and history before layers, layers bottom-up,
    /// then path, line and rule.
    static func reportOrder(_ a: Finding, _ b: Finding) -> Bool {
        let x = a.location, y = b.location
        if (x.platform ?? "") != (y.platform ?? "") { return (x.platform ?? "") < (y.platform ?? "") }
        let (kx, ky) = (kindOrder(x.kind) == 5 ? 1 : 0, kindOrder(y.kind) == 5 ? 1 : 0)
        if kx != ky { return kx < ky }
        if (x.layerIndex ?? -1) != (y.layerIndex ?? -1) { return (x.layerIndex ?? -1) < (y.layerIndex ?? -1) }
        if (x.historyIndex ?? -1) != (y.historyIndex ?? -1) { return (x.historyIndex ?? -1) < (y.historyIndex ?? -1) }
        if kindOrder(x.kind) != kindOrder(y.kind) { return kindOrder(x.kind) < kindOrder(y.kind) }
        if (x.path ?? "") != (y.path ?? "") { return (x.path ?? "") < (y.path ?? "") }
        if (x.line ?? 0) != (y.line ?? 0) { return (x.line ?? 0) < (y.line ?? 0) }
        if (x.key ?? "") != (y.key ?? "") { return (x.key ?? "") < (y.key ?? "") }
        return a.ruleId < b.ruleId
    }
}
