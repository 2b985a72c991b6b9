import Foundation
import ResidueArchive

/// `docker://[REGISTRY/]REPO[:TAG|@DIGEST]`, normalised the way docker does: a first path
/// component with a `.` or `:`, or `localhost`, names the registry; anything else is on Docker
/// Hub, where a one-component name lives under `library/` (`alpine` →
/// `docker.io/library/alpine:latest`, served by `registry-1.docker.io`).
public struct RegistryReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry as written (`docker.io` for Docker Hub), used to look up credentials.
    public let registry: String
    public let repository: String
    public let tag: String?
    public let digest: Digest?

    public init(registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Where the registry API answers (Docker Hub's API host differs from its name).
    public var apiHost: String { Self.apiHost(for: registry) }

    public static func apiHost(for registry: String) -> String {
        registry == "docker.io" ? "registry-1.docker.io" : registry
    }

    /// The tag or digest a manifest request names.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    public var description: String {
        "docker://\(registry)/\(repository)" + (digest.map { "@\($0)" } ?? ":\(tag ?? "latest")")
    }

    /// `host/repo:tag` as an image name (what the report shows).
    public var name: String {
        "\(registry)/\(repository)" + (digest.map { "@\($0)" } ?? ":\(tag ?? "latest")")
    }

    public static func normalizeRegistry(_ host: String) -> String {
        ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"].contains(host) ? "docker.io" : host
    }

    public static func parse(_ text: String) throws -> RegistryReference {
        var name = text
        if name.hasPrefix("docker://") { name = String(name.dropFirst("docker://".count)) }
        func fail(_ why: String) -> ImageError { ImageError("docker://\(name): \(why)") }
        var digest: Digest?
        if let at = name.firstIndex(of: "@") {
            let digestText = String(name[name.index(after: at)...])
            guard let parsed = Digest(digestText) else { throw fail("\(digestText) is not a digest (sha256:<64 hex>)") }
            digest = parsed
            name = String(name[..<at])
        }
        var tag: String?
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") {
            tag = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
            guard let tag, !tag.isEmpty, tag.count <= 128,
                  tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw fail("invalid tag")
            }
        }
        var components = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty }) else { throw fail("missing repository name") }
        var registry = "docker.io"
        if components.count > 1, components[0].contains(".") || components[0].contains(":") || components[0] == "localhost" {
            registry = normalizeRegistry(components.removeFirst())
        }
        if registry == "docker.io" && components.count == 1 { components.insert("library", at: 0) }
        let repository = components.joined(separator: "/")
        guard repository.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "._-/".contains($0)) }) else {
            throw fail("repository names are lower case letters, digits and . _ - /")
        }
        return RegistryReference(registry: registry, repository: repository, tag: digest == nil ? (tag ?? "latest") : tag, digest: digest)
    }
}
