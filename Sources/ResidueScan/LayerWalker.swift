import Foundation
import ResidueArchive
import ResidueImage
import ResidueRules

/// What one layer does to the filesystem: the paths it writes and the paths it deletes.
/// File status (present / deleted / overwritten) is decided from these once every layer is read.
struct LayerChanges: Sendable {
    var written = Set<String>()
    /// Paths removed by `.wh.NAME` entries.
    var whiteouts = Set<String>()
    /// Directories emptied by `.wh..wh..opq` (their earlier contents are hidden).
    var opaqueDirectories = Set<String>()
}

/// Everything learned from one layer.
struct LayerResult: Sendable {
    let digest: Digest
    var changes = LayerChanges()
    var hits: [LayerFileHit] = []
    var filesScanned = 0
    var bytesScanned: Int64 = 0
    var skipped: [Skipped] = []
    var compression = "none"
}

/// A secret in a file of a layer; `containerPath` is the file in the layer (the outer archive
/// for a nested hit) whose status later decides present/deleted/overwritten.
struct LayerFileHit: Sendable {
    let ruleIndex: Int
    let secret: String
    let path: String
    let containerPath: String
    let line: Int?
}

/// Streams one layer through libarchive: records its whiteouts and writes, scans every regular
/// file. Never extracts anything: entry names are strings, not host paths.
struct LayerWalker {
    let ruleSet: RuleSet
    let limits: ScanLimits

    func walk(_ layer: LayerBlob) throws -> LayerResult {
        var result = LayerResult(digest: layer.digest)
        let what = "layer \(layer.index) (\(layer.digest))"
        let source = try layer.open()
        let scanner = FileScanner(matcher: Matcher(ruleSet), limits: limits)
        do {
            let reader = try ArchiveReader(source: source, formats: .tar, what: what)
            while let entry = try reader.nextEntry() {
                let path = normalizePath(entry.name)
                let name = (path as NSString).lastPathComponent
                let directory = (path as NSString).deletingLastPathComponent
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
                    LayerFileHit(ruleIndex: $0.ruleIndex, secret: $0.secret, path: $0.path, containerPath: path, line: $0.line)
                }
            }
            result.compression = reader.compression
            // libarchive stops at the tar end marker: read what is left so the digest covers every byte.
            try source.drain()
        } catch let failure as LayerFailure {
            throw ScanError("\(what): \(failure.underlying)")
        } catch let error as DigestMismatch {
            throw ScanError("\(error)")
        } catch {
            throw ScanError("\(what): \(error)")
        }
        result.filesScanned = scanner.filesScanned
        result.bytesScanned = scanner.bytesScanned
        result.skipped = scanner.skipped
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
