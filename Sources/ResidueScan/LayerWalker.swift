import Foundation
import ResidueArchive
import ResidueImage
import ResidueRules

/// What one layer does to the filesystem: the paths it writes and the paths it deletes.
/// File status (present / deleted / overwritten) is decided from these once every layer is read.
public struct LayerChanges: Sendable {
    public var written = PathSet()
    /// Paths removed by `.wh.NAME` entries.
    public var whiteouts = PathSet()
    /// Directories emptied by `.wh..wh..opq` (their earlier contents are hidden).
    public var opaqueDirectories = PathSet()

    public init(written: PathSet = [], whiteouts: PathSet = [], opaqueDirectories: PathSet = []) {
        self.written = written
        self.whiteouts = whiteouts
        self.opaqueDirectories = opaqueDirectories
    }
}

/// Everything learned from one layer. A layer's result depends only on its digest and the
/// rule set, so it can be reused across images (see `LayerResultStore`).
public struct LayerResult: Sendable {
    public internal(set) var digest: Digest
    public var changes = LayerChanges()
    public var hits: [LayerFileHit] = []
    public var filesScanned = 0
    public var bytesScanned: Int64 = 0
    public var skipped: [Skipped] = []
    public var compression = "none"
    /// False when a limit stopped the layer before its end (`--max-layer-size`, a decompression
    /// bomb, `--max-entries`): the rest was not read, so its bytes were never checked against
    /// the digest. Such a result is no proof of what that digest holds (a store that persists
    /// results, the on-disk cache, does not keep it).
    public var digestVerified = true

    public init(digest: Digest) { self.digest = digest }
}

/// A secret in a file of a layer; `containerPath` is the file in the layer (the outer archive
/// for a nested hit) whose status later decides present/deleted/overwritten.
///
/// A hit read back from the on-disk cache has no `secret`: only its masked form, its
/// fingerprint, its confidence and a `sealed` keyed hash (see `SealedSecret`), which is all a
/// redacted report needs. `--show-secrets`, and `.residue.toml` allowlist regexes and stopwords
/// (`ScanOptions.needsClearSecret`), walk such layers again.
public struct LayerFileHit: Sendable {
    /// The rule's id (not its index: a stored result must survive a different rule order).
    public let ruleId: String
    /// In clear; nil when the hit comes from the on-disk cache.
    public let secret: String?
    public let path: String
    public let containerPath: String
    public let line: Int?
    /// The secret as a redacted report shows it.
    public let redacted: String
    /// The finding's fingerprint (it depends on the rule, the path and the secret only).
    public let fingerprint: String
    /// The keyed hash a cache stored instead of the secret.
    public let sealed: SealedSecret?
    /// How likely a live credential, decided while the secret was in clear (checksums and
    /// example values need it); nil: decided when the findings are assembled.
    public let assessment: Assessment?

    /// A fresh hit: `revealPrefix` says whether the masked form may keep a vendor prefix.
    public init(ruleId: String, secret: String, path: String, containerPath: String, line: Int?, revealPrefix: Bool = false,
                assessment: Assessment? = nil) {
        self.ruleId = ruleId
        self.assessment = assessment
        self.secret = secret
        self.path = path
        self.containerPath = containerPath
        self.line = line
        redacted = Redactor(showSecrets: false).redact(secret, revealPrefix: revealPrefix)
        var location = Location(kind: .layerFile)
        location.path = path
        fingerprint = Fingerprint.make(ruleId: ruleId, location: location, secret: secret)
        sealed = nil
    }

    /// A hit read back from a store that does not keep secrets.
    public init(ruleId: String, sealed: SealedSecret, redacted: String, fingerprint: String, path: String,
                containerPath: String, line: Int?, assessment: Assessment?) {
        self.ruleId = ruleId
        self.assessment = assessment
        secret = nil
        self.sealed = sealed
        self.redacted = redacted
        self.fingerprint = fingerprint
        self.path = path
        self.containerPath = containerPath
        self.line = line
    }
}

/// Layer results already computed, by layer digest: a base layer shared by many images is
/// read once. Implementations must be safe to call from several threads.
public protocol LayerResultStore: AnyObject, Sendable {
    func result(for digest: Digest) -> LayerResult?
    func store(_ result: LayerResult)
    /// For a store that keeps hits sealed instead of in clear: how to recognise those secrets
    /// in other text to mask them (nil: the store keeps secrets, in memory).
    var sealer: SecretSealer? { get }
}

extension LayerResultStore {
    public var sealer: SecretSealer? { nil }
}

/// Keeps results for the life of the process (an audit of many images sharing base layers).
public final class InMemoryLayerStore: LayerResultStore, @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Digest: LayerResult] = [:]

    public init() {}

    public func result(for digest: Digest) -> LayerResult? { lock.withLock { results[digest] } }

    public func store(_ result: LayerResult) { lock.withLock { results[result.digest] = result } }
}

/// Streams one layer through libarchive: records its whiteouts and writes, scans every regular
/// file. Never extracts anything: entry names are strings, not host paths.
struct LayerWalker {
    let ruleSet: RuleSet
    let limits: ScanLimits

    func walk(_ layer: LayerBlob) throws -> LayerResult {
        var result = LayerResult(digest: layer.digest)
        let what = "layer \(layer.index) (\(layer.digest))"
        let scanner = FileScanner(matcher: Matcher(ruleSet), limits: limits)
        do {
            let source = try layer.open()
            let reader = try ArchiveReader(source: source, formats: .tar, what: what)
            let budget = LayerBudget(reader: reader, limits: limits)
            scanner.budget = budget
            var currentPath: String?
            do {
                while let entry = try reader.nextEntry() {
                    try budget.countEntry()
                    try budget.check()
                    let path = normalizePath(entry.name)
                    currentPath = path
                    let (directory, name) = PathText.split(path)
                    if name.hasPrefix(".wh.") {
                        if name == ".wh..wh..opq" {
                            result.changes.opaqueDirectories.insert(directory)
                        } else if !name.hasPrefix(".wh..wh.") {
                            result.changes.whiteouts.insert((directory as NSString).appendingPathComponent(String(name.dropFirst(4))))
                        }
                        continue
                    }
                    if path == "/" { continue }
                    result.changes.written.insert(path)
                    guard entry.kind == .regular, entry.size != 0 else { continue }
                    var fileHits: [FileHit] = []
                    try scanner.scan(LayerStreamSource(reader), path: path, depth: 0, layerDigest: layer.digest.description, hits: &fileHits)
                    result.hits += fileHits.map {
                        let rule = ruleSet.rules[$0.ruleIndex].rule
                        return LayerFileHit(ruleId: rule.id, secret: $0.secret, path: $0.path, containerPath: path, line: $0.line,
                                            revealPrefix: rule.priority.revealsPrefix,
                                            assessment: ConfidenceAssessor.assess(rule, secret: $0.secret, path: $0.path))
                    }
                }
                result.compression = reader.compression
                // libarchive stops at the tar end marker: read what is left so the gzip trailers
                // are checked and the digest covers every byte.
                try reader.finishDecompressing()
                try source.drain()
            } catch let limit as LayerLimitReached {
                // A bounded scan, never a silent truncation: what was read is reported, and so is where it stopped.
                result.compression = reader.compression
                result.digestVerified = false
                result.skipped.append(Skipped(layerDigest: layer.digest.description, path: currentPath,
                                              reason: "\(limit); the rest of the layer was not read and its digest not verified"))
            }
        } catch {
            // Name the layer once: errors from the archive reader already start with it.
            let underlying = (error as? LayerFailure)?.underlying ?? error
            let text = "\(underlying)"
            throw ScanError(text.hasPrefix(what) || underlying is DigestMismatch ? text : "\(what): \(text)")
        }
        result.filesScanned = scanner.filesScanned
        result.bytesScanned = scanner.bytesScanned
        result.skipped = scanner.skipped + result.skipped
        return result
    }
}

/// A scan that could not complete: one line that names what and why (exit code 2).
public struct ScanError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Decides, for a file in layer `i`, what the layers above did to it.
struct StatusResolver {
    let layers: [LayerChanges]

    func status(of path: String, inLayer index: Int) -> Location.Status {
        let ancestors = Self.ancestors(of: path)
        for later in layers.indices where later > index {
            let changes = layers[later]
            let hidden = changes.whiteouts.contains(path)
                || ancestors.contains { changes.whiteouts.contains($0) || changes.opaqueDirectories.contains($0) }
            if changes.written.contains(path) { return .overwritten }
            if hidden { return .deleted }
        }
        return .present
    }

    /// `/a/b/c` → [`/a/b`, `/a`, `/`].
    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = path
        while current != "/" && !current.isEmpty {
            current = (current as NSString).deletingLastPathComponent
            result.append(current)
        }
        return result
    }
}
