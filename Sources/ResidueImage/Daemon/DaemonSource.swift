import Foundation
import ResidueArchive

/// `docker-daemon:NAME[:TAG]`: the image as the Docker Engine API exports it
/// (`GET /images/{name}/get`, a `docker save` tar), streamed from `$DOCKER_HOST` (default
/// `unix:///var/run/docker.sock`; `tcp://HOST:PORT` for plain TCP) into the one-pass
/// docker-archive reader: no temp file, nothing held but the JSON entries. Podman's
/// Docker-compatible service (`podman system service`) answers the same API.
public struct DaemonSource: StreamingImageSource {
    public let name: String
    let endpoint: DockerEndpoint
    let settings: RegistrySettings

    public init(name: String, settings: RegistrySettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        // docker and skopeo read NAME without a tag as NAME:latest (the API would export every
        // tag); an image id (12 to 64 hex digits, as `docker images` shows it) has no tag.
        var name = name
        let last = name.split(separator: "/").last ?? ""
        if !last.contains(":") && !name.contains("@") && !Self.isImageID(name) { name += ":latest" }
        self.name = name
        self.settings = settings
        endpoint = try DockerEndpoint(environment["DOCKER_HOST"])
    }

    var what: String { "docker-daemon:\(name)" }

    /// `3f2a9c1b7e44`, or a longer prefix of an image's sha256 id, as docker accepts it.
    static func isImageID(_ name: String) -> Bool {
        (12...64).contains(name.count) && name.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    public func stream<R>(platform: Platform?, visit: (ByteSource, String) throws -> R) throws
        -> (images: [ResolvedImage], layers: [Digest: R]) {
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))) ?? name
        var request = HTTPRequest(url: endpoint.baseURL + "/images/\(encoded)/get")
        request.unixSocket = endpoint.socketPath
        request.totalTimeout = nil
        request.stallTimeout = settings.stallTimeout
        let response: HTTPResponse
        do {
            response = try HTTPResponse(request)
        } catch let error as HTTPTransportError {
            throw ImageError("\(what): cannot reach the Docker daemon at \(endpoint.description): \(error.message) (is it running? DOCKER_HOST selects another)")
        }
        guard response.status == 200 else {
            let body = (try? response.readAll(limit: 1 << 16, what: what)) ?? []
            let message = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["message"] as? String
            if response.status == 404 { throw ImageError("\(what): no such image in the daemon\(message.map { " (\($0))" } ?? "")") }
            throw ImageError("\(what): the daemon answered HTTP \(response.status)\(message.map { ": \($0)" } ?? "")")
        }
        return try StreamedDockerArchive(what: what, selector: nil).read(response, platform: platform, visit: visit)
    }

    /// Without a visitor the layers cannot be read later (the stream is gone): scanners use `stream`.
    public func resolve(platform: Platform?) throws -> [ResolvedImage] {
        try stream(platform: platform) { source, _ in try source.drain() }.images
    }
}

/// `$DOCKER_HOST`: `unix:///path` or `tcp://host:port`.
struct DockerEndpoint: CustomStringConvertible {
    let socketPath: String?
    let baseURL: String
    let description: String

    init(_ host: String?) throws {
        let host = (host?.isEmpty ?? true) ? "unix:///var/run/docker.sock" : host!
        description = host
        if host.hasPrefix("unix://") {
            socketPath = String(host.dropFirst("unix://".count))
            baseURL = "http://docker"
        } else if host.hasPrefix("tcp://") || host.hasPrefix("http://") {
            socketPath = nil
            baseURL = "http://" + host.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: true).dropFirst().first.map(String.init)!
        } else {
            throw ImageError("DOCKER_HOST=\(host): expected unix:///path or tcp://host:port")
        }
    }
}
