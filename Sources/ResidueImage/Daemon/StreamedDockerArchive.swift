import Foundation
import ResidueArchive

/// A source that can only be read once, front to back (a `docker save` stream from a daemon):
/// its layers are handed to `visit` as they stream by, and the images are known only at the end.
public protocol StreamingImageSource: ImageSource {
    /// Reads the whole stream once. `visit` reads one layer (a verified stream) and returns what
    /// it learned; the results come back keyed by the layer's digest, which the returned images'
    /// layers name.
    func stream<R>(platform: Platform?, visit: (_ layer: ByteSource, _ what: String) throws -> R) throws
        -> (images: [ResolvedImage], layers: [Digest: R])
}

/// Reads a `docker save` tar in one pass, from a stream that cannot seek.
///
/// The random-access reader (`TarStore` + `DockerArchiveSource`) reads `manifest.json` first
/// and then opens each layer it lists. A stream offers no second look, and `manifest.json`
/// may come after the layers (Docker and podman write it last). So this reader decides what
/// each entry is from its first bytes as it passes:
/// - JSON (`manifest.json`, configs, legacy `<id>/json`): small, kept in memory by name
///   (64 MiB each at most).
/// - a tar (ustar magic, or an all-zero block: an empty layer) or a compressed stream (gzip,
///   zstd, bzip2, xz): a layer. It is handed to `visit` at once, while the bytes stream by,
///   and hashed as it passes; the result is keyed by that digest. A name that carries a digest
///   (`blobs/sha256/<hex>`, Docker 25+) must match it.
/// - anything else (`VERSION`, `repositories`, `oci-layout`): skipped.
/// Links (legacy archives link a repeated layer to the first copy) are remembered by name.
/// At the end, `manifest.json` says which entries are each image's config and layers; every
/// layer must have been seen, and a legacy `<id>/layer.tar` — the uncompressed layer — must
/// hash to the config's diff_id. Memory is bounded by the JSON entries; layers are never held.
struct StreamedDockerArchive {
    let what: String
    /// `NAME:TAG` or `@N` to select one image of several, as `docker-archive:` does.
    let selector: String?

    static let jsonLimit = 64 << 20

    func read<R>(_ body: ByteSource, platform: Platform?, visit: (ByteSource, String) throws -> R) throws
        -> (images: [ResolvedImage], layers: [Digest: R]) {
        let reader = try ArchiveReader(source: body, formats: .tar, what: what)
        var small: [String: [UInt8]] = [:]
        var layerDigests: [String: Digest] = [:]
        var links: [String: String] = [:]
        var visited: [Digest: R] = [:]
        var keptBytes = 0
        while let entry = try reader.nextEntry() {
            let name = normalizeEntryName(entry.name)
            switch entry.kind {
            case .symlink:
                let directory = (name as NSString).deletingLastPathComponent
                let target = entry.linkTarget ?? ""
                links[name] = normalizeEntryName(target.hasPrefix("/") ? target : directory + "/" + target)
                continue
            case .hardlink:
                links[name] = normalizeEntryName(entry.linkTarget ?? "")
                continue
            case .regular:
                break
            default:
                continue
            }
            let head = try reader.readPrefix(count: 512)
            if Self.looksLikeJSON(head) {
                let bytes = head + (try reader.readAll(limit: Self.jsonLimit, what: "\(what): \(name)"))
                keptBytes += bytes.count
                if keptBytes > 4 * Self.jsonLimit { throw ImageError("\(what): more than \(4 * Self.jsonLimit) bytes of JSON entries") }
                small[name] = bytes
                continue
            }
            guard Self.looksLikeLayer(head) else {
                try reader.skipData()
                continue
            }
            let named = DockerArchiveSource.digest(inName: name)
            let hashing = HashingSource(PrefixedSource(prefix: head, rest: reader), algorithm: named?.algorithm ?? .sha256)
            let result = try visit(hashing, "\(what): \(name)")
            try hashing.drain()
            let digest = hashing.digest!
            if let named, named != digest {
                throw DigestMismatch(what: "\(what): \(name)", expected: named, actual: digest)
            }
            layerDigests[name] = digest
            visited[digest] = result
        }
        // libarchive stops at the end-of-archive marker: read the rest so a cut stream shows.
        try body.drain()

        func resolveName(_ name: String) -> String {
            var current = normalizeEntryName(name)
            for _ in 0..<8 { guard let next = links[current] else { break }; current = next }
            return current
        }
        guard let manifestBytes = small["manifest.json"] else {
            throw ImageError("\(what): the stream holds no manifest.json (not a docker save archive)")
        }
        let entries = try decode([DockerArchiveSource.Entry].self, from: manifestBytes, what: "\(what): manifest.json")
        if entries.isEmpty { throw ImageError("\(what): manifest.json lists no images") }
        var selected = entries
        if let selector {
            if selector.hasPrefix("@"), let index = Int(selector.dropFirst()), entries.indices.contains(index) {
                selected = [entries[index]]
            } else {
                selected = entries.filter { ($0.RepoTags ?? []).contains { $0 == selector || $0.hasSuffix("/" + selector) } }
                if selected.isEmpty { selected = entries }
            }
        }
        var images: [ResolvedImage] = []
        for entry in selected {
            let configName = resolveName(entry.Config)
            guard let configBytes = small[configName] else {
                throw ImageError("\(what): config \(entry.Config) listed in manifest.json is not in the stream")
            }
            let configDigest = Digest.sha256(of: configBytes)
            if let named = DockerArchiveSource.digest(inName: configName), named.hex.count == 64, named != configDigest {
                throw DigestMismatch(what: "\(what): config \(entry.Config)", expected: named, actual: configDigest)
            }
            let config = try decode(ImageConfig.self, from: configBytes, what: "\(what): config \(entry.Config)")
            let diffIDs = config.rootfs.diff_ids
            guard diffIDs.count == entry.Layers.count else {
                throw ImageError("\(what): manifest.json lists \(entry.Layers.count) layers but the config has \(diffIDs.count) diff_ids")
            }
            let what = self.what
            let layers = try entry.Layers.enumerated().map { index, layerName -> LayerBlob in
                let resolved = resolveName(layerName)
                guard let digest = layerDigests[resolved] else {
                    throw ImageError("\(what): layer \(index) (\(layerName)) listed in manifest.json is not in the stream")
                }
                if !resolved.hasPrefix("blobs/"), digest != diffIDs[index] {
                    throw DigestMismatch(what: "\(what): layer \(index) (\(layerName)) against the config's diff_id",
                                         expected: diffIDs[index], actual: digest)
                }
                return LayerBlob(index: index, digest: digest, diffID: diffIDs[index], mediaType: nil, size: nil) {
                    throw ImageError("\(what): layer \(index) was read as it streamed by and cannot be opened again")
                }
            }
            images.append(ResolvedImage(platform: config.platform, manifestDigest: nil, configDigest: configDigest,
                                        config: config, layers: layers, names: entry.RepoTags ?? []))
        }
        return (try filterPlatforms(images, platform: platform, what: what), visited)
    }

    static func looksLikeJSON(_ head: [UInt8]) -> Bool {
        guard let first = head.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) else { return false }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    static func looksLikeLayer(_ head: [UInt8]) -> Bool {
        if TarHeaderIndex.hasUstarMagic(head) { return true }
        if head.count == 512 && head.allSatisfy({ $0 == 0 }) { return true }
        let magics: [[UInt8]] = [[0x1f, 0x8b], [0x28, 0xb5, 0x2f, 0xfd], [0x42, 0x5a, 0x68], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]]
        return magics.contains { head.starts(with: $0) }
    }
}

/// Passes bytes through and hashes them; `digest` is set at the end of the stream.
final class HashingSource: ByteSource {
    let inner: ByteSource
    let hasher: Digest.Hasher
    private(set) var digest: Digest?

    init(_ inner: ByteSource, algorithm: Digest.Algorithm) {
        self.inner = inner
        hasher = Digest.Hasher(algorithm)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if digest != nil { return 0 }
        let n = try inner.read(into: buffer)
        if n > 0 { hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) } else { digest = hasher.finish() }
        return n
    }
}
