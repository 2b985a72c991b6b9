import Foundation
import ResidueArchive

/// Where the manifests and blobs of an image come from: the `blobs/` of an OCI layout, or a
/// registry. Everything returned is checked against the descriptor's digest.
protocol BlobProvider: Sendable {
    /// Names the container in error messages (a path, `docker://host/repo`).
    var what: String { get }
    /// An image index or manifest, verified.
    func manifestBytes(_ descriptor: Descriptor) throws -> [UInt8]
    /// A small blob (an image config), verified.
    func smallBlob(_ descriptor: Descriptor) throws -> [UInt8]
    /// A layer, as a stream that checks the digest (and size) when read to its end.
    func openLayer(_ descriptor: Descriptor) throws -> ByteSource
}

/// Index → platform manifests → config + layers, the same for every source that stores an
/// image as OCI/Docker descriptors (OCI layouts and archives, registries).
struct ManifestResolver {
    let provider: BlobProvider
    static let maximumIndexDepth = 4

    /// `ancestors` are the indexes on the way here: meeting one again is a loop.
    func collect(_ descriptor: Descriptor, names: [String], depth: Int = 0,
                 ancestors: Set<Digest> = [], into images: inout [ResolvedImage]) throws {
        // Attestation manifests (BuildKit provenance/SBOM) describe an image; they are not one.
        if descriptor.annotations?["vnd.docker.reference.type"] == "attestation-manifest" { return }
        let what = provider.what
        guard depth <= Self.maximumIndexDepth else {
            throw ImageError("\(what): image indexes nest deeper than \(Self.maximumIndexDepth) levels at \(descriptor.digest)")
        }
        guard !ancestors.contains(descriptor.digest) else {
            throw ImageError("\(what): image index \(descriptor.digest) refers to itself")
        }
        let bytes = try provider.manifestBytes(descriptor)
        let isIndex = MediaType.isIndex(descriptor.mediaType)
            || (!MediaType.isManifest(descriptor.mediaType) && Self.looksLikeIndex(bytes))
        if isIndex {
            let index = try decode(ImageIndex.self, from: bytes, what: "image index \(descriptor.digest)")
            for child in index.manifests {
                try collect(child, names: names, depth: depth + 1, ancestors: ancestors.union([descriptor.digest]), into: &images)
            }
            return
        }
        if Self.isSchema1(bytes) {
            throw ImageError("\(what): manifest \(descriptor.digest) is Docker schema 1, which residue does not read (the registry converted it: was every manifest type in Accept?)")
        }
        let manifest = try decode(ImageManifest.self, from: bytes, what: "manifest \(descriptor.digest)")
        images.append(try resolveManifest(manifest, digest: descriptor.digest, platform: descriptor.platform, names: names))
    }

    static func looksLikeIndex(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["manifests"] != nil
    }

    static func isSchema1(_ bytes: [UInt8]) -> Bool {
        ((try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["schemaVersion"] as? Int) == 1
    }

    private func resolveManifest(_ manifest: ImageManifest, digest: Digest, platform: Platform?, names: [String]) throws -> ResolvedImage {
        let configBytes = try provider.smallBlob(manifest.config)
        let config = try decode(ImageConfig.self, from: configBytes, what: "config \(manifest.config.digest)")
        let provider = self.provider
        let layers = manifest.layers.enumerated().map { index, layer in
            LayerBlob(index: index, digest: layer.digest,
                      diffID: index < config.rootfs.diff_ids.count ? config.rootfs.diff_ids[index] : nil,
                      mediaType: layer.mediaType, size: layer.size) {
                try provider.openLayer(layer)
            }
        }
        return ResolvedImage(platform: platform ?? config.platform, manifestDigest: digest,
                             configDigest: manifest.config.digest, config: config, layers: layers, names: names)
    }

    /// Two refs (or an index and a ref) may lead to the same manifest: scan it once.
    static func unique(_ images: [ResolvedImage]) -> [ResolvedImage] {
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
        return unique
    }
}
