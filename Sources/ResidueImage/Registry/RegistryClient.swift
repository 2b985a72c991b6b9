import Foundation
import ResidueArchive

/// The OCI distribution / Docker Registry HTTP API v2 for one registry: authentication
/// (anonymous or credentialed Bearer tokens, Basic), bounded retries, redirects that never
/// carry credentials to another host, manifests, streamed blobs, catalog and tags.
/// Safe to share between threads (the layers of an image are read in parallel).
public final class RegistryClient: @unchecked Sendable {
    /// The registry as named (`docker.io`, `127.0.0.1:5000`).
    public let registry: String
    let settings: RegistrySettings
    private let credentialStore: CredentialStore
    private let lock = NSLock()
    private var baseURLCache: String?
    /// Bearer tokens by scope (`repository:team/app:pull`).
    private var tokens: [String: String] = [:]
    /// Set when the registry asked for Basic authentication.
    private var basicAuthorization: String?

    /// Every manifest type, or a registry converts (to schema 1) or refuses (404 for an OCI index).
    public static let manifestAccept = [MediaType.ociIndex, MediaType.ociManifest,
                                        MediaType.dockerManifestList, MediaType.dockerManifest]

    public init(registry: String, settings: RegistrySettings) {
        self.registry = registry
        self.settings = settings
        credentialStore = CredentialStore(settings: settings)
    }

    var apiHost: String { RegistryReference.apiHost(for: registry) }

    /// `https://host`, or with --tls-verify=false, `http://host` when the registry speaks no TLS.
    func baseURL() throws -> String {
        if let cached = lock.withLock({ baseURLCache }) { return cached }
        var base = "https://\(apiHost)"
        if !settings.tlsVerify {
            var probe = HTTPRequest(url: base + "/v2/")
            probe.tlsVerify = false
            probe.totalTimeout = 10
            probe.connectTimeout = 10
            if (try? HTTPResponse(probe)) == nil { base = "http://\(apiHost)" }
        }
        lock.withLock { baseURLCache = base }
        return base
    }

    // MARK: requests

    /// A request to the registry API: authenticates when challenged, retries 429/5xx and
    /// transport failures with backoff (honouring Retry-After), follows redirects (credentials
    /// only ever go to the registry's own host). Returns the final response, any status.
    func send(_ path: String, scope: String, what: String, accept: [String] = [], rangeFrom: Int64? = nil,
              method: String = "GET", totalTimeout: Int? = 120) throws -> HTTPResponse {
        let base = try baseURL()
        var url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : base + path
        let home = Self.origin(of: base)
        var attempt = 0
        var authenticated = false
        var redirects = 0
        let policy = settings.retry
        while true {
            attempt += 1
            let sameOrigin = Self.origin(of: url) == home
            var request = HTTPRequest(url: url, method: method)
            request.tlsVerify = settings.tlsVerify
            request.totalTimeout = totalTimeout
            request.stallTimeout = settings.stallTimeout
            if !accept.isEmpty { request.headers.append(("Accept", accept.joined(separator: ", "))) }
            if let rangeFrom, rangeFrom > 0 { request.headers.append(("Range", "bytes=\(rangeFrom)-")) }
            if sameOrigin, let authorization = authorization(scope: scope) {
                request.headers.append(("Authorization", authorization))
            }
            let response: HTTPResponse
            do {
                response = try HTTPResponse(request)
            } catch let error as HTTPTransportError {
                if error.isTransient && attempt < policy.attempts {
                    Thread.sleep(forTimeInterval: policy.delay(afterAttempt: attempt))
                    continue
                }
                let hint = error.isTLSFailure && settings.tlsVerify ? " (TLS failed: for a plain-http registry use --tls-verify=false)" : ""
                throw ImageError("\(what): \(error.message)\(attempt > 1 ? " (after \(attempt) attempts)" : "")\(hint)")
            }
            switch response.status {
            case 401 where sameOrigin && !authenticated:
                authenticated = true
                try authenticate(challenge: response.header("www-authenticate"), scope: scope, what: what)
                attempt -= 1
            case 401:
                throw ImageError("\(what): authentication failed (401 Unauthorized)\(try credentialStore.credentials(for: registry) == nil ? "; no credentials for \(registry): use --creds or log in" : "")")
            case 403:
                throw ImageError("\(what): access denied (403 Forbidden)")
            case 429, 500, 502, 503, 504:
                guard attempt < policy.attempts else {
                    throw ImageError("\(what): HTTP \(response.status) after \(attempt) attempts")
                }
                Thread.sleep(forTimeInterval: policy.delay(afterAttempt: attempt,
                                                           retryAfter: RetryPolicy.parseRetryAfter(response.header("retry-after"))))
            case 301, 302, 303, 307, 308:
                redirects += 1
                guard redirects <= 5, let location = response.header("location"),
                      let next = URL(string: location, relativeTo: URL(string: url))?.absoluteURL.absoluteString else {
                    throw ImageError("\(what): too many or invalid redirects")
                }
                url = next
                attempt -= 1
            default:
                return response
            }
        }
    }

    /// `scheme://host:port` of a URL: credentials are only sent where this equals the registry's.
    static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        let scheme = components.scheme ?? ""
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(components.host?.lowercased() ?? ""):\(port)"
    }

    private func authorization(scope: String) -> String? {
        lock.withLock { tokens[scope].map { "Bearer \($0)" } ?? basicAuthorization }
    }

    /// Answers a `WWW-Authenticate` challenge: Basic with credentials, or a Bearer token from
    /// the realm (anonymous, or with the credentials as Basic to the token server).
    private func authenticate(challenge: String?, scope: String, what: String) throws {
        guard let challenge, let parsed = Self.parseChallenge(challenge) else {
            throw ImageError("\(what): 401 Unauthorized without a usable WWW-Authenticate challenge")
        }
        let credentials = try credentialStore.credentials(for: registry)
        let basic = credentials.map { "Basic " + Data("\($0.username):\($0.password)".utf8).base64EncodedString() }
        switch parsed.scheme {
        case "basic":
            guard let basic else {
                throw ImageError("\(what): authentication required; no credentials for \(registry): use --creds or log in")
            }
            lock.withLock { basicAuthorization = basic }
        case "bearer":
            guard let realm = parsed.parameters["realm"], var components = URLComponents(string: realm) else {
                throw ImageError("\(what): Bearer challenge without a realm")
            }
            var items = components.queryItems ?? []
            if let service = parsed.parameters["service"] { items.append(URLQueryItem(name: "service", value: service)) }
            items.append(URLQueryItem(name: "scope", value: parsed.parameters["scope"] ?? scope))
            components.queryItems = items
            guard let tokenURL = components.url?.absoluteString else { throw ImageError("\(what): invalid token realm") }
            let token = try fetchToken(url: tokenURL, basic: basic, what: what)
            lock.withLock { tokens[scope] = token }
        default:
            throw ImageError("\(what): unsupported authentication scheme \(parsed.scheme)")
        }
    }

    private func fetchToken(url: String, basic: String?, what: String) throws -> String {
        let policy = settings.retry
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPRequest(url: url)
            request.tlsVerify = settings.tlsVerify
            request.totalTimeout = 60
            if let basic { request.headers.append(("Authorization", basic)) }
            do {
                let response = try HTTPResponse(request)
                if [429, 500, 502, 503, 504].contains(response.status) && attempt < policy.attempts {
                    Thread.sleep(forTimeInterval: policy.delay(afterAttempt: attempt, retryAfter: RetryPolicy.parseRetryAfter(response.header("retry-after"))))
                    continue
                }
                guard response.status == 200 else {
                    throw ImageError("\(what): the token server refused (HTTP \(response.status))\(basic == nil ? "; no credentials for \(registry): use --creds or log in" : "")")
                }
                let body = try response.readAll(limit: 1 << 20, what: "token response")
                guard let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
                      let token = (json["token"] as? String) ?? (json["access_token"] as? String), !token.isEmpty else {
                    throw ImageError("\(what): the token server sent no token")
                }
                return token
            } catch let error as HTTPTransportError {
                if error.isTransient && attempt < policy.attempts {
                    Thread.sleep(forTimeInterval: policy.delay(afterAttempt: attempt))
                    continue
                }
                throw ImageError("\(what): token server: \(error.message)")
            }
        }
    }

    /// `Bearer realm="…",service="…",scope="a:b:pull,push"` → scheme and parameters.
    static func parseChallenge(_ text: String) -> (scheme: String, parameters: [String: String])? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else {
            return trimmed.isEmpty ? nil : (trimmed.lowercased(), [:])
        }
        let scheme = trimmed[..<space].lowercased()
        var parameters: [String: String] = [:]
        var rest = Substring(trimmed[trimmed.index(after: space)...])
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.first, character != "\"" {
                    if character == "\\" { rest = rest.dropFirst() }
                    if let next = rest.first { value.append(next) }
                    rest = rest.dropFirst()
                }
                rest = rest.dropFirst()
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[key] = value
        }
        return (scheme, parameters)
    }

    /// A whole small body (manifest, tag list), the request retried when the body is cut short.
    func fetchSmall(_ path: String, scope: String, what: String, accept: [String] = [],
                    limit: Int = 8 << 20) throws -> (response: HTTPResponse, body: [UInt8]) {
        var attempt = 0
        while true {
            attempt += 1
            let response = try send(path, scope: scope, what: what, accept: accept)
            do {
                let body = try response.readAll(limit: limit, what: what)
                if let length = response.header("content-length").flatMap(Int.init), length != body.count,
                   response.status == 200 {
                    throw HTTPTransportError(code: 18, message: "body cut short (\(body.count) of \(length) bytes)", url: path)
                }
                return (response, body)
            } catch let error as HTTPTransportError where error.isTransient && attempt < settings.retry.attempts {
                Thread.sleep(forTimeInterval: settings.retry.delay(afterAttempt: attempt))
            } catch let error as HTTPTransportError {
                throw ImageError("\(what): \(error.message) (after \(attempt) attempts)")
            }
        }
    }

    // MARK: the API

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }

    /// A manifest or index by tag or digest, with every type in Accept, checked against the
    /// digest asked for (or the `Docker-Content-Digest` the registry states).
    public func manifest(repository: String, reference: String) throws -> (bytes: [UInt8], mediaType: String?, digest: Digest) {
        let what = "docker://\(registry)/\(repository)\(reference.contains(":") ? "@" : ":")\(reference)"
        let (response, body) = try fetchSmall("/v2/\(repository)/manifests/\(reference)", scope: Self.pullScope(repository),
                                              what: what, accept: Self.manifestAccept)
        guard response.status == 200 else {
            if response.status == 404 { throw ImageError("\(what): manifest unknown (404): no such repository, tag or digest") }
            throw ImageError("\(what): manifest request failed (HTTP \(response.status))")
        }
        let expected = Digest(reference) ?? response.header("docker-content-digest").flatMap(Digest.init)
        let algorithm = expected?.algorithm ?? .sha256
        let hasher = Digest.Hasher(algorithm)
        body.withUnsafeBytes { hasher.update($0) }
        let actual = hasher.finish()
        if let expected, expected != actual {
            throw ImageError("\(what): manifest digest mismatch: expected \(expected), content hashes to \(actual)")
        }
        let mediaType = response.header("content-type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        return (body, mediaType, actual)
    }

    /// Whether a manifest exists and its digest (a HEAD request): to check a tag did not move.
    public func manifestDigest(repository: String, reference: String) throws -> Digest? {
        let what = "docker://\(registry)/\(repository):\(reference)"
        let response = try send("/v2/\(repository)/manifests/\(reference)", scope: Self.pullScope(repository), what: what,
                                accept: Self.manifestAccept, method: "HEAD")
        guard response.status == 200 else { return nil }
        return response.header("docker-content-digest").flatMap(Digest.init)
    }

    /// A blob as a stream that survives resets and truncation (it resumes with `Range`), to be
    /// wrapped in a `VerifyingSource`.
    public func openBlob(repository: String, digest: Digest, size: Int64?) -> ByteSource {
        RegistryBlobSource(client: self, repository: repository, digest: digest, size: size)
    }

    /// Every repository (`/v2/_catalog`, following `Link` pagination).
    public func catalog(pageSize: Int = 1000) throws -> [String] {
        try paginated("/v2/_catalog?n=\(pageSize)", key: "repositories", scope: "registry:catalog:*",
                      what: "docker://\(registry): catalog")
    }

    /// Every tag of a repository (`/v2/REPO/tags/list`, following `Link` pagination).
    public func tags(repository: String, pageSize: Int = 1000) throws -> [String] {
        try paginated("/v2/\(repository)/tags/list?n=\(pageSize)", key: "tags", scope: Self.pullScope(repository),
                      what: "docker://\(registry)/\(repository): tags")
    }

    private func paginated(_ first: String, key: String, scope: String, what: String) throws -> [String] {
        var result: [String] = []
        var next: String? = first
        var pages = 0
        while let path = next {
            pages += 1
            guard pages <= 100_000 else { throw ImageError("\(what): pagination does not end") }
            let (response, body) = try fetchSmall(path, scope: scope, what: what, accept: ["application/json"])
            guard response.status == 200 else {
                throw ImageError("\(what): HTTP \(response.status)")
            }
            guard let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
                throw ImageError("\(what): not JSON")
            }
            result += json[key] as? [String] ?? []
            next = Self.nextLink(response.header("link"))
        }
        return result
    }

    /// `</v2/_catalog?last=b&n=2>; rel="next"` → `/v2/_catalog?last=b&n=2`.
    static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }
}

/// A blob streamed from a registry. A reset or a body cut short is resumed where it stopped
/// (`Range: bytes=N-`; a registry that answers 200 instead is skipped forward), up to the retry
/// policy's attempts. The caller wraps it in a `VerifyingSource`: the digest covers every byte.
final class RegistryBlobSource: ByteSource {
    let client: RegistryClient
    let repository: String
    let digest: Digest
    let size: Int64?
    private var response: HTTPResponse?
    private var offset: Int64 = 0
    private var failures = 0
    private var what: String { "docker://\(client.registry)/\(repository): blob \(digest)" }

    init(client: RegistryClient, repository: String, digest: Digest, size: Int64?) {
        self.client = client
        self.repository = repository
        self.digest = digest
        self.size = size
    }

    private func open() throws -> HTTPResponse {
        let response = try client.send("/v2/\(repository)/blobs/\(digest)", scope: RegistryClient.pullScope(repository),
                                       what: what, rangeFrom: offset, totalTimeout: nil)
        switch response.status {
        case 200:
            // No range support: skip what was already read.
            var skip = offset
            var scratch = [UInt8](repeating: 0, count: 64 * 1024)
            while skip > 0 {
                let count = try scratch.withUnsafeMutableBytes { try response.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<Int(min(Int64($0.count), skip))])) }
                if count == 0 { throw HTTPTransportError(code: 18, message: "body cut short", url: what) }
                skip -= Int64(count)
            }
            return response
        case 206 where offset > 0:
            return response
        case 404:
            throw ImageError("\(what): blob unknown (404)")
        default:
            throw ImageError("\(what): HTTP \(response.status)")
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            do {
                if response == nil { response = try open() }
                let count = try response!.read(into: buffer)
                if count == 0, let size, offset < size {
                    throw HTTPTransportError(code: 18, message: "body cut short at \(offset) of \(size) bytes", url: what)
                }
                offset += Int64(count)
                return count
            } catch let error as HTTPTransportError where error.isTransient {
                response = nil
                failures += 1
                guard failures < client.settings.retry.attempts else {
                    throw ImageError("\(what): \(error.message) (after \(failures) attempts)")
                }
                Thread.sleep(forTimeInterval: client.settings.retry.delay(afterAttempt: failures))
            }
        }
    }
}
