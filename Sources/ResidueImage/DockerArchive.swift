import Foundation
import ResidueArchive

/// `docker save` output: `manifest.json` lists each image's config and layer files. Legacy
/// archives store layers as `<id>/layer.tar` (uncompressed: their digest is the diff id);
/// Docker 25+ stores them as `blobs/sha256/<hex>` inside an OCI layout. The legacy per-layer
/// `<id>/json` files are copies of config fields and are never read (they would double findings).
struct DockerArchiveSource: ImageSource {
    let store: FileStore
    /// `NAME:TAG` from RepoTags, or `@N` for the N-th image; nil selects every image.
    let reference: String?

    /// `docker.io/library/app:1` → `app:1`, `docker.io/team/app:1` → `team/app:1` (how docker
    /// save writes Docker Hub names in RepoTags); other names unchanged.
    static func shortDockerName(_ name: String) -> String {
        for prefix in ["docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"] where name.hasPrefix(prefix) {
            return String(name.dropFirst(prefix.count))
        }
        return name
    }

    struct Entry: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    func resolve(platform: Platform?) throws -> [ResolvedImage] {
        let entries = try decode([Entry].self, from: try store.readSmall("manifest.json"), what: "\(store.what): manifest.json")
        if entries.isEmpty { throw ImageError("\(store.what): manifest.json lists no images") }
        var selected = Array(entries.enumerated())
        if let reference {
            if reference.hasPrefix("@"), let index = Int(reference.dropFirst()) {
                guard entries.indices.contains(index) else {
                    throw ImageError("\(store.what): no image @\(index) (the archive holds \(entries.count))")
                }
                selected = [(index, entries[index])]
            } else {
                // docker save writes Docker Hub names short (`app:1` for docker.io/library/app:1), skopeo
                // in full (`docker.io/team/app:1`): either form selects either.
                let short = Self.shortDockerName(reference)
                selected = selected.filter { entry in
                    (entry.element.RepoTags ?? []).contains { $0 == reference || Self.shortDockerName($0) == short || $0 == "localhost/" + reference }
                }
                if selected.isEmpty {
                    let known = entries.flatMap { $0.RepoTags ?? [] }
                    throw ImageError("\(store.what): no image tagged \"\(reference)\" (it has: \(known.isEmpty ? "no tags" : known.joined(separator: ", ")))")
                }
            }
        }
        let images = try selected.map { try resolveEntry($0.element) }
        return try filterPlatforms(images, platform: platform, what: store.what)
    }

    /// `blobs/sha256/<hex>` or `<hex>.json`-style names carry their digest.
    static func digest(inName name: String) -> Digest? {
        let parts = normalizeEntryName(name).split(separator: "/")
        if parts.count == 3, parts[0] == "blobs", let digest = Digest("\(parts[1]):\(parts[2])") { return digest }
        if let last = parts.last {
            let stem = last.split(separator: ".").first.map(String.init) ?? ""
            return Digest("sha256:\(stem)")
        }
        return nil
    }

    private func resolveEntry(_ entry: Entry) throws -> ResolvedImage {
        let configBytes: [UInt8]
        let configDigest: Digest
        if let named = Self.digest(inName: entry.Config) {
            configBytes = try store.readVerified(entry.Config, digest: named, size: nil)
            configDigest = named
        } else {
            configBytes = try store.readSmall(entry.Config)
            configDigest = Digest.sha256(of: configBytes)
        }
        let config = try decode(ImageConfig.self, from: configBytes, what: "\(store.what): config \(entry.Config)")
        let diffIDs = config.rootfs.diff_ids
        guard diffIDs.count == entry.Layers.count else {
            throw ImageError("\(store.what): manifest.json lists \(entry.Layers.count) layers but the config has \(diffIDs.count) diff_ids")
        }
        let store = self.store
        let layers = entry.Layers.enumerated().map { index, name in
            // A blob named by digest is checked against it; a legacy layer.tar is the
            // uncompressed layer, so its digest is the diff id.
            let expected = Self.digest(inName: name).flatMap { $0.hex.count == 64 ? $0 : nil } ?? diffIDs[index]
            let what = "\(store.what): layer \(index) (\(name))"
            return LayerBlob(index: index, digest: expected, diffID: diffIDs[index], mediaType: nil, size: nil) {
                VerifyingSource(try store.open(name), expected: expected, what: what)
            }
        }
        return ResolvedImage(platform: config.platform, manifestDigest: nil, configDigest: configDigest,
                             config: config, layers: layers, names: entry.RepoTags ?? [])
    }
}
