import Foundation
import ResidueArchive

/// `docker://REGISTRY/REPO:TAG|@DIGEST`: the manifest (or index, every platform) from the
/// registry, configs read whole (small), layers streamed from the registry into the layer
/// walker as it reads them, each verified against its digest.
public struct RegistrySource: ImageSource {
    public let reference: RegistryReference
    public let client: RegistryClient

    public init(reference: RegistryReference, client: RegistryClient) {
        self.reference = reference
        self.client = client
    }

    public func resolve(platform: Platform?) throws -> [ResolvedImage] {
        try resolveWithDigest(platform: platform).images
    }

    /// The images and the digest of the manifest (or index) the tag points to.
    public func resolveWithDigest(platform: Platform?) throws -> (digest: Digest, images: [ResolvedImage]) {
        let top = try client.manifest(repository: reference.repository, reference: reference.manifestReference)
        let descriptor = Descriptor(mediaType: top.mediaType, digest: top.digest, size: Int64(top.bytes.count))
        let provider = RegistryBlobs(client: client, repository: reference.repository, prefetched: [top.digest: top.bytes])
        var images: [ResolvedImage] = []
        try ManifestResolver(provider: provider).collect(descriptor, names: [reference.name], into: &images)
        return (top.digest, try filterPlatforms(ManifestResolver.unique(images), platform: platform, what: reference.description))
    }
}

/// Manifests and blobs of one repository of a registry.
struct RegistryBlobs: BlobProvider {
    let client: RegistryClient
    let repository: String
    /// The top manifest, already fetched by tag.
    let prefetched: [Digest: [UInt8]]

    var what: String { "docker://\(client.registry)/\(repository)" }

    func manifestBytes(_ descriptor: Descriptor) throws -> [UInt8] {
        let bytes = try prefetched[descriptor.digest]
            ?? client.manifest(repository: repository, reference: descriptor.digest.description).bytes
        if descriptor.size > 0 && Int64(bytes.count) != descriptor.size {
            throw ImageError("\(what)@\(descriptor.digest): manifest is \(bytes.count) bytes, its descriptor says \(descriptor.size)")
        }
        return bytes
    }

    func smallBlob(_ descriptor: Descriptor) throws -> [UInt8] {
        try openLayer(descriptor).readAll(limit: 64 << 20, what: "\(what): blob \(descriptor.digest)")
    }

    func openLayer(_ descriptor: Descriptor) throws -> ByteSource {
        VerifyingSource(client.openBlob(repository: repository, digest: descriptor.digest, size: descriptor.size),
                        expected: descriptor.digest, size: descriptor.size, what: "\(what): blob \(descriptor.digest)")
    }
}
