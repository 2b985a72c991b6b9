import Foundation
import ResidueArchive

/// An image reference in the transport syntax skopeo and podman users know:
/// `docker-archive:PATH[:REF]`, `oci:DIR[:REF]`, `oci-archive:PATH[:REF]`,
/// `docker://REGISTRY/REPO:TAG`, `docker-daemon:NAME:TAG`, or a bare path (format sniffed).
public struct ImageReference: Sendable, CustomStringConvertible {
    public enum Transport: String, Sendable {
        case dockerArchive = "docker-archive"
        case oci
        case ociArchive = "oci-archive"
        case docker
        case dockerDaemon = "docker-daemon"
    }

    public let transport: Transport
    /// The path (archives, layouts) or the image name (registry, daemon).
    public let location: String
    /// The image inside an archive or layout: a ref name, a tag, `@N`.
    public let selector: String?

    public init(transport: Transport, location: String, selector: String? = nil) {
        self.transport = transport
        self.location = location
        self.selector = selector
    }

    public var description: String {
        switch transport {
        case .docker: return "docker://\(location)"
        default: return "\(transport.rawValue):\(location)" + (selector.map { ":\($0)" } ?? "")
        }
    }

    public static func parse(_ text: String) throws -> ImageReference {
        if text.hasPrefix("docker://") {
            let name = String(text.dropFirst("docker://".count))
            guard !name.isEmpty else { throw ImageError("\(text): missing image name after docker://") }
            return ImageReference(transport: .docker, location: name)
        }
        for transport in [Transport.dockerArchive, .ociArchive, .oci, .dockerDaemon] {
            let prefix = transport.rawValue + ":"
            guard text.hasPrefix(prefix) else { continue }
            let rest = String(text.dropFirst(prefix.count))
            guard !rest.isEmpty else { throw ImageError("\(text): missing path after \(prefix)") }
            if transport == .dockerDaemon { return ImageReference(transport: transport, location: rest) }
            let (path, selector) = splitSelector(rest)
            return ImageReference(transport: transport, location: path, selector: selector)
        }
        if let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/"),
           text[..<colon].allSatisfy({ $0.isLetter || $0 == "-" }), text[..<colon].count > 1,
           !FileManager.default.fileExists(atPath: text) {
            throw ImageError("\(text): unknown transport \"\(text[..<colon])\" (use docker-archive:, oci:, oci-archive:, docker://, docker-daemon:, or a path)")
        }
        return try sniff(path: text)
    }

    /// `PATH:REF` → (PATH, REF). A path may itself contain `:`, and so may a reference
    /// (`two.tar:app:1`, `layout:docker.io/library/app:1`): the path is the longest part before
    /// a colon that exists. When none exists, the last colon splits (the open then says which
    /// path is missing).
    static func splitSelector(_ text: String) -> (String, String?) {
        if FileManager.default.fileExists(atPath: text) { return (text, nil) }
        let colons = text.indices.filter { text[$0] == ":" }
        for colon in colons.reversed() where FileManager.default.fileExists(atPath: String(text[..<colon])) {
            let selector = String(text[text.index(after: colon)...])
            return (String(text[..<colon]), selector.isEmpty ? nil : selector)
        }
        if let colon = colons.last {
            let selector = String(text[text.index(after: colon)...])
            if !selector.isEmpty, !selector.contains("/") { return (String(text[..<colon]), selector) }
        }
        return (text, nil)
    }

    /// A bare path: a directory with `oci-layout` is an OCI layout; a tar with `manifest.json`
    /// is a docker archive, one with `index.json` an OCI archive.
    static func sniff(path: String) throws -> ImageReference {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError("\(path): no such file or directory")
        }
        if isDirectory.boolValue {
            guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("index.json")) else {
                throw ImageError("\(path): a directory but not an OCI image layout (no index.json)")
            }
            return ImageReference(transport: .oci, location: path)
        }
        let store = try TarStore(path: path)
        if store.exists("manifest.json") { return ImageReference(transport: .dockerArchive, location: path) }
        if store.exists("index.json") { return ImageReference(transport: .ociArchive, location: path) }
        throw ImageError("\(path): neither a docker archive (no manifest.json) nor an OCI archive (no index.json)")
    }

    /// Opens the source this reference names; `registry` says how to reach registries and the daemon.
    public func openSource(registry: RegistrySettings = RegistrySettings()) throws -> ImageSource {
        switch transport {
        case .dockerArchive:
            return DockerArchiveSource(store: try TarStore(path: location), reference: selector)
        case .ociArchive:
            return OCILayoutSource(store: try TarStore(path: location), reference: selector)
        case .oci:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: location, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ImageError("\(location): not a directory (an OCI layout is a directory; use oci-archive: for a tar)")
            }
            return OCILayoutSource(store: DirectoryStore(root: location), reference: selector)
        case .docker:
            let parsed = try RegistryReference.parse(location)
            return RegistrySource(reference: parsed, client: RegistryClient(registry: parsed.registry, settings: registry))
        case .dockerDaemon:
            return try DaemonSource(name: location, settings: registry)
        }
    }
}
