import Foundation
import ResidueArchive

/// An OCI platform, `os/architecture[/variant]`.
public struct Platform: Hashable, Sendable, Codable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    enum CodingKeys: String, CodingKey { case os, architecture, variant }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = (variant?.isEmpty ?? true) ? nil : variant
    }

    /// Parses `linux/arm64`, `linux/arm/v7`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// `linux/arm64` selects `linux/arm64/v8` too: a filter without variant accepts any variant.
    public func accepts(_ other: Platform) -> Bool {
        os == other.os && architecture == other.architecture && (variant == nil || variant == other.variant)
    }
}

public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

    public static func isIndex(_ type: String?) -> Bool { type == ociIndex || type == dockerManifestList }
    public static func isManifest(_ type: String?) -> Bool { type == ociManifest || type == dockerManifest }
}

/// An OCI content descriptor.
public struct Descriptor: Codable, Sendable {
    public var mediaType: String?
    public var digest: Digest
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(mediaType: String?, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }
}

/// An OCI image index or Docker manifest list.
public struct ImageIndex: Codable, Sendable {
    public var mediaType: String?
    public var manifests: [Descriptor]
}

/// An OCI image manifest or Docker v2 schema 2 manifest. Both fields are required: a manifest
/// without them is rejected when decoded.
public struct ImageManifest: Codable, Sendable {
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
}

/// The parts of an image config that residue reads.
public struct ImageConfig: Decodable, Sendable {
    public struct RunConfig: Decodable, Sendable {
        public var Env: [String]?
        public var Labels: [String: String]?
        public var Cmd: [String]?
        public var Entrypoint: [String]?
        public var User: String?
        public var WorkingDir: String?
        public var Shell: [String]?
        public var OnBuild: [String]?
        public var StopSignal: String?
        public var Healthcheck: Healthcheck?
        public var Volumes: [String: AnyDecodable]?
        public var ExposedPorts: [String: AnyDecodable]?
    }

    public struct Healthcheck: Decodable, Sendable {
        public var Test: [String]?
    }

    public struct RootFS: Decodable, Sendable {
        public var type: String?
        public var diff_ids: [Digest]
    }

    public var architecture: String?
    public var os: String?
    public var variant: String?
    public var config: RunConfig?
    public var rootfs: RootFS
    public var history: [HistoryEntry]?
}

/// Decodes and ignores any JSON value (the `{}` of Volumes and ExposedPorts).
public struct AnyDecodable: Decodable, Sendable {
    public init(from decoder: Decoder) throws {}
}

/// One entry of the config's `history`.
public struct HistoryEntry: Decodable, Sendable {
    public var created: String?
    public var created_by: String?
    public var author: String?
    public var comment: String?
    public var empty_layer: Bool?

    public init(created_by: String?, empty_layer: Bool? = nil, comment: String? = nil) {
        self.created_by = created_by
        self.empty_layer = empty_layer
        self.comment = comment
    }
}

/// Where a layer's bytes come from: opened on demand, once per scan.
public struct LayerBlob: Sendable {
    /// Position in `rootfs.diff_ids` order (0 = base).
    public let index: Int
    /// Digest of the stored blob (compressed or not), verified as it is read.
    public let digest: Digest
    public let diffID: Digest?
    public let mediaType: String?
    public let size: Int64?
    let opener: @Sendable () throws -> ByteSource

    public init(index: Int, digest: Digest, diffID: Digest?, mediaType: String?, size: Int64?,
                opener: @escaping @Sendable () throws -> ByteSource) {
        self.index = index
        self.digest = digest
        self.diffID = diffID
        self.mediaType = mediaType
        self.size = size
        self.opener = opener
    }

    /// The layer's stored bytes; reading them to the end verifies the digest.
    public func open() throws -> ByteSource { try opener() }
}

/// One platform's image, resolved: config parsed, layers ready to open.
public struct ResolvedImage: Sendable {
    public let platform: Platform?
    public let manifestDigest: Digest?
    public let configDigest: Digest
    public let config: ImageConfig
    public let layers: [LayerBlob]
    /// Tags or ref names the source knows for this image.
    public let names: [String]

    public init(platform: Platform?, manifestDigest: Digest?, configDigest: Digest, config: ImageConfig,
                layers: [LayerBlob], names: [String]) {
        self.platform = platform
        self.manifestDigest = manifestDigest
        self.configDigest = configDigest
        self.config = config
        self.layers = layers
        self.names = names
    }
}

extension ResolvedImage {
    func adding(names more: [String]) -> ResolvedImage {
        ResolvedImage(platform: platform, manifestDigest: manifestDigest, configDigest: configDigest, config: config,
                      layers: layers, names: names + more.filter { !names.contains($0) })
    }
}

/// The one seam for inputs: every transport yields the same resolved images.
public protocol ImageSource: Sendable {
    /// The images in this source (one per platform of an index), filtered by `platform`.
    func resolve(platform: Platform?) throws -> [ResolvedImage]
}

/// Errors in the image itself: what a person needs to act (which file, which digest).
public struct ImageError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
