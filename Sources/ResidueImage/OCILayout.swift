import Foundation
import ResidueArchive

/// An OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), in a directory
/// (`oci:`) or a tar (`oci-archive:`, and Docker 25+ `docker save` output).
struct OCILayoutSource: ImageSource {
    let store: FileStore
    /// A ref name (`org.opencontainers.image.ref.name`) to select; nil selects every manifest.
    let reference: String?

    static let refNameAnnotation = "org.opencontainers.image.ref.name"
    static let maximumIndexDepth = 4

    func resolve(platform: Platform?) throws -> [ResolvedImage] {
        let top = try decode(ImageIndex.self, from: try store.readSmall("index.json"), what: "index.json")
        var selected = top.manifests
        if let reference {
            selected = top.manifests.filter { Self.matches($0, reference: reference) }
            if selected.isEmpty {
                let known = top.manifests.compactMap { $0.annotations?[Self.refNameAnnotation] }
                throw ImageError("\(store.what): no image named \"\(reference)\" in index.json (it has: \(known.isEmpty ? "no names" : known.joined(separator: ", ")))")
            }
        }
        var images: [ResolvedImage] = []
        for descriptor in selected {
            let names = [descriptor.annotations?[Self.refNameAnnotation]].compactMap { $0 }
            try collect(descriptor, names: names, depth: 0, ancestors: [], into: &images)
        }
        // Two refs (or an index and a ref) may lead to the same manifest: scan it once.
        var seen = Set<Digest>()
        var unique: [ResolvedImage] = []
        for image in images {
            guard let digest = image.manifestDigest else { unique.append(image); continue }
            if seen.insert(digest).inserted {
                unique.append(image)
            } else if let position = unique.firstIndex(where: { $0.manifestDigest == digest }) {
                unique[position] = unique[position].adding(names: image.names)
            }
        }
        return try filterPlatforms(unique, platform: platform, what: store.what)
    }

    static func matches(_ descriptor: Descriptor, reference: String) -> Bool {
        let annotations = descriptor.annotations ?? [:]
        if annotations[refNameAnnotation] == reference { return true }
        if let name = annotations["io.containerd.image.name"], name == reference || name.hasSuffix("/" + reference) { return true }
        return descriptor.digest.description == reference
    }

    func blobName(_ digest: Digest) -> String { "blobs/\(digest.algorithm.rawValue)/\(digest.hex)" }

    /// Reads a small blob (index, manifest, config), verified; a missing one is named by its role.
    func readBlob(_ descriptor: Descriptor, role: String) throws -> [UInt8] {
        let name = blobName(descriptor.digest)
        guard store.exists(name) else { throw ImageError("\(store.what): \(role) \(descriptor.digest) is missing (no \(name))") }
        return try store.readVerified(name, digest: descriptor.digest, size: descriptor.size)
    }

    /// `ancestors` are the indexes on the way here: meeting one again is a loop.
    private func collect(_ descriptor: Descriptor, names: [String], depth: Int,
                         ancestors: Set<Digest>, into images: inout [ResolvedImage]) throws {
        // Attestation manifests (BuildKit provenance/SBOM) describe an image; they are not one.
        if descriptor.annotations?["vnd.docker.reference.type"] == "attestation-manifest" { return }
        guard depth <= Self.maximumIndexDepth else {
            throw ImageError("\(store.what): image indexes nest deeper than \(Self.maximumIndexDepth) levels at \(descriptor.digest)")
        }
        guard !ancestors.contains(descriptor.digest) else {
            throw ImageError("\(store.what): image index \(descriptor.digest) refers to itself")
        }
        let bytes = try readBlob(descriptor, role: MediaType.isIndex(descriptor.mediaType) ? "image index" : "manifest")
        let isIndex = MediaType.isIndex(descriptor.mediaType)
            || (!MediaType.isManifest(descriptor.mediaType) && Self.looksLikeIndex(bytes))
        if isIndex {
            let index = try decode(ImageIndex.self, from: bytes, what: "image index \(descriptor.digest)")
            for child in index.manifests {
                try collect(child, names: names, depth: depth + 1, ancestors: ancestors.union([descriptor.digest]), into: &images)
            }
            return
        }
        let manifest = try decode(ImageManifest.self, from: bytes, what: "manifest \(descriptor.digest)")
        images.append(try resolveManifest(manifest, digest: descriptor.digest, platform: descriptor.platform, names: names))
    }

    static func looksLikeIndex(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["manifests"] != nil
    }

    private func resolveManifest(_ manifest: ImageManifest, digest: Digest, platform: Platform?, names: [String]) throws -> ResolvedImage {
        let configBytes = try readBlob(manifest.config, role: "config")
        let config = try decode(ImageConfig.self, from: configBytes, what: "config \(manifest.config.digest)")
        let store = self.store
        let layers = manifest.layers.enumerated().map { index, layer in
            let name = blobName(layer.digest)
            return LayerBlob(index: index, digest: layer.digest,
                             diffID: index < config.rootfs.diff_ids.count ? config.rootfs.diff_ids[index] : nil,
                             mediaType: layer.mediaType, size: layer.size) {
                VerifyingSource(try store.open(name), expected: layer.digest, size: layer.size,
                                what: "\(store.what): layer \(layer.digest)")
            }
        }
        return ResolvedImage(platform: platform ?? config.platform, manifestDigest: digest,
                             configDigest: manifest.config.digest, config: config, layers: layers, names: names)
    }
}

extension ImageConfig {
    /// The platform a config declares, if it declares one.
    public var platform: Platform? {
        guard let os, let architecture, !os.isEmpty, !architecture.isEmpty else { return nil }
        return Platform(os: os, architecture: architecture, variant: variant)
    }
}

func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
    do {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            // Go's encoder lets invalid UTF-8 and lone surrogates through in history lines and
            // Env values; Foundation rejects them. Repair them (U+FFFD) and decode again.
            return try JSONDecoder().decode(type, from: Data(repairedJSONText(bytes).utf8))
        }
    } catch let error as DecodingError {
        throw ImageError("\(what) is not valid: \(describe(error))")
    } catch {
        throw ImageError("\(what) is not valid JSON")
    }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return keys.isEmpty ? "" : " at \(keys)"
    }
    switch error {
    case let .keyNotFound(key, context): return "missing \"\(key.stringValue)\"\(path(context))"
    case let .typeMismatch(_, context): return "wrong type\(path(context))"
    case let .valueNotFound(_, context): return "missing value\(path(context))"
    case let .dataCorrupted(context):
        return context.codingPath.isEmpty ? "not JSON" : "\(context.debugDescription)\(path(context))"
    @unknown default: return "undecodable"
    }
}

/// Keeps the images `platform` accepts; asking for a platform the source lacks is an error.
func filterPlatforms(_ images: [ResolvedImage], platform: Platform?, what: String) throws -> [ResolvedImage] {
    guard let platform else { return images }
    let kept = images.filter { $0.platform.map(platform.accepts) ?? false }
    if kept.isEmpty {
        let available = images.compactMap { $0.platform?.description }
        throw ImageError("\(what): no image for platform \(platform) (available: \(available.isEmpty ? "none declared" : available.joined(separator: ", ")))")
    }
    return kept
}

/// The JSON text with invalid UTF-8 and unpaired `\\uD800`–`\\uDFFF` escapes replaced by U+FFFD.
func repairedJSONText(_ bytes: [UInt8]) -> String {
    let characters = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
    var output = String.UnicodeScalarView()
    func surrogate(at index: Int) -> UInt32? {
        guard index + 5 < characters.count, characters[index] == "\\", characters[index + 1] == "u",
              let value = UInt32(String(String.UnicodeScalarView(characters[(index + 2)...(index + 5)])), radix: 16),
              (0xD800...0xDFFF).contains(value) else { return nil }
        return value
    }
    var index = 0
    while index < characters.count {
        if characters[index] == "\\", index + 1 < characters.count {
            if let high = surrogate(at: index) {
                if high < 0xDC00, let low = surrogate(at: index + 6), low >= 0xDC00 {
                    output.append(contentsOf: characters[index..<(index + 12)])
                    index += 12
                } else {
                    output.append(contentsOf: "\\ufffd".unicodeScalars)
                    index += 6
                }
                continue
            }
            output.append(characters[index])
            output.append(characters[index + 1])
            index += 2
            continue
        }
        output.append(characters[index])
        index += 1
    }
    return String(output)
}
