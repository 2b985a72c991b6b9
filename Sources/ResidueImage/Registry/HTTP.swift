import CCurl
import Foundation
import ResidueArchive

// HTTP for registries (`docker://`) and the Docker Engine API (`docker-daemon:`).
//
// Why libcurl, used directly through a `systemLibrary` target:
// - Layers must stream into the pull-based `ByteSource` the layer walker reads, never be
//   buffered whole nor written to disk. libcurl's multi interface is driven by the reader:
//   `read(into:)` runs `curl_multi_perform` only when its buffer is empty, so the network is
//   read exactly as fast as the scan consumes it, on the scanning thread, with no hand-off
//   between threads. A write callback that finds more than `pauseThreshold` bytes waiting
//   returns CURL_WRITEFUNC_PAUSE, which bounds the buffer (libcurl keeps the chunk and
//   delivers it again on `curl_easy_pause(CONT)`).
// - FoundationNetworking's URLSession sits on the same libcurl on Linux but only streams
//   through a delegate on its own queue (a bounded hand-off to build and test), follows
//   redirects with its own rules for the Authorization header, and cannot talk to a unix
//   socket, which the Docker Engine API needs (CURLOPT_UNIX_SOCKET_PATH).
// - async-http-client would add SwiftNIO: minutes to every clean CI build.
// Redirects are followed by the registry client itself (never by libcurl), so credentials are
// never sent to another host. Proxies: HTTP(S)_PROXY / http(s)_proxy and NO_PROXY are read from
// the environment, upper and lower case as Docker does (libcurl alone ignores HTTP_PROXY).

/// One HTTP request.
public struct HTTPRequest: Sendable {
    public var url: String
    public var method = "GET"
    public var headers: [(String, String)] = []
    public var body: [UInt8]?
    /// Talk HTTP over this unix socket (the Docker Engine API) instead of TCP.
    public var unixSocket: String?
    /// Verify TLS certificates (skopeo's --tls-verify).
    public var tlsVerify = true
    /// A limit on the whole exchange, for small requests (manifests, tokens). Nil for blobs,
    /// which are only bounded by `stallTimeout`.
    public var totalTimeout: Int? = 120
    /// Give up when no byte arrives for this many seconds.
    public var stallTimeout = 60
    public var connectTimeout = 20

    public init(url: String, method: String = "GET", headers: [(String, String)] = []) {
        self.url = url
        self.method = method
        self.headers = headers
    }
}

/// A failure below HTTP: connection refused or reset, TLS, timeout, a body cut short.
public struct HTTPTransportError: Error, CustomStringConvertible {
    public let code: Int
    public let message: String
    public let url: String
    /// Worth another attempt (resets, timeouts, truncated bodies), unlike a TLS or DNS failure.
    public var isTransient: Bool {
        [7, 16, 18, 28, 52, 55, 56, 92].contains(code)
    }
    public var isTLSFailure: Bool { [35, 60, 51, 53, 54, 58, 59, 64, 66, 77, 80, 82, 83, 90, 91].contains(code) }
    public var description: String { "\(message) (\(url))" }
}

/// The response to a request: status and headers as soon as they arrived; the body is read as
/// a stream (`ByteSource`). Dropping it closes the connection.
public final class HTTPResponse: ByteSource {
    public private(set) var status = 0
    /// Header names in lower case; a repeated header keeps every value.
    public private(set) var headers: [String: [String]] = [:]
    public let url: String

    private let multi: UnsafeMutableRawPointer
    private let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var requestBody: [CChar]?
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var headersComplete = false
    private var finished = false
    private var result = CURLE_OK
    private var paused = false
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        pointer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return pointer
    }()
    /// Bytes of body received so far (for resuming a cut transfer with Range).
    public private(set) var bodyBytesReceived: Int64 = 0
    /// The largest the buffer between libcurl and the reader ever grew (tests check the bound).
    public private(set) var largestBuffer = 0
    static let pauseThreshold = 1 << 20

    static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    /// Sends the request and waits for the response headers (bounded by the request's timeouts).
    public init(_ request: HTTPRequest) throws {
        _ = Self.globalInit
        url = request.url
        guard let multi = curl_multi_init(), let easy = curl_easy_init() else {
            throw HTTPTransportError(code: -1, message: "cannot start libcurl", url: request.url)
        }
        self.multi = multi
        self.easy = easy
        try configure(request)
        curl_multi_add_handle(multi, easy)
        while !headersComplete && !finished { try step() }
        if !headersComplete { try throwIfFailed(); status = residue_curl_response_code(easy) }
    }

    deinit {
        curl_multi_remove_handle(multi, easy)
        curl_easy_cleanup(easy)
        curl_multi_cleanup(multi)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()]?.first }

    private func set(_ option: CURLoption, _ value: Int) { _ = residue_curl_setopt_long(easy, option, value) }
    private func set(_ option: CURLoption, _ value: String) { _ = residue_curl_setopt_string(easy, option, value) }

    private func configure(_ request: HTTPRequest) throws {
        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_CONNECTTIMEOUT, request.connectTimeout)
        set(CURLOPT_LOW_SPEED_LIMIT, 1)
        set(CURLOPT_LOW_SPEED_TIME, request.stallTimeout)
        if let total = request.totalTimeout { set(CURLOPT_TIMEOUT, total) }
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_ACCEPT_ENCODING, "identity")
        _ = residue_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        if !request.tlsVerify {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let socket = request.unixSocket {
            set(CURLOPT_UNIX_SOCKET_PATH, socket)
            set(CURLOPT_PROXY, "")
        } else {
            Self.applyProxy(url: request.url, set: { self.set($0, $1) })
        }
        switch request.method {
        case "GET": break
        case "HEAD": set(CURLOPT_NOBODY, 1)
        case "POST":
            set(CURLOPT_POST, 1)
            let body = (request.body ?? []).map { CChar(bitPattern: $0) }
            requestBody = body
            set(CURLOPT_POSTFIELDSIZE, body.count)
            _ = requestBody!.withUnsafeMutableBufferPointer { residue_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        default: set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers { list = curl_slist_append(list, "\(name): \(value)") }
        list = curl_slist_append(list, "Expect:")
        headerList = list
        _ = residue_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
        let client = Unmanaged.passUnretained(self).toOpaque()
        _ = residue_curl_set_write(easy, { data, size, count, client in
            let response = Unmanaged<HTTPResponse>.fromOpaque(client!).takeUnretainedValue()
            return response.received(UnsafeRawBufferPointer(start: data, count: size * count))
        }, client)
        _ = residue_curl_set_header(easy, { data, size, count, client in
            let response = Unmanaged<HTTPResponse>.fromOpaque(client!).takeUnretainedValue()
            response.receivedHeader(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }, client)
    }

    /// Proxies as Docker reads them: upper- or lower-case variables, NO_PROXY honoured.
    static func applyProxy(url: String, set: (CURLoption, String) -> Void) {
        let environment = ProcessInfo.processInfo.environment
        func variable(_ name: String) -> String? {
            (environment[name.uppercased()] ?? environment[name.lowercased()]).flatMap { $0.isEmpty ? nil : $0 }
        }
        let proxy = url.hasPrefix("https:") ? variable("https_proxy") : variable("http_proxy")
        if let noProxy = variable("no_proxy") { set(CURLOPT_NOPROXY, noProxy) }
        set(CURLOPT_PROXY, proxy ?? "")
    }

    private func received(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !headersComplete { headersComplete = true }
        if buffer.count - bufferStart >= Self.pauseThreshold {
            paused = true
            return residue_curl_write_pause()
        }
        if bufferStart > 0 && bufferStart == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
        }
        buffer.append(contentsOf: bytes)
        bodyBytesReceived += Int64(bytes.count)
        largestBuffer = max(largestBuffer, buffer.count - bufferStart)
        return bytes.count
    }

    private func receivedHeader(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers = [:]
            let parts = line.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        } else if line.isEmpty {
            if status >= 200 { headersComplete = true }
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name, default: []].append(value)
        }
    }

    /// One turn of libcurl: transfer what is ready, or wait (at most a second) for the socket.
    private func step() throws {
        var running: Int32 = 0
        let code = curl_multi_perform(multi, &running)
        if code != CURLM_OK {
            throw HTTPTransportError(code: -1, message: "libcurl: \(String(cString: curl_multi_strerror(code)))", url: url)
        }
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            if message.pointee.msg == CURLMSG_DONE {
                finished = true
                result = message.pointee.data.result
            }
        }
        if !finished && available == 0 && !paused {
            var ready: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &ready)
        }
    }

    private var available: Int { buffer.count - bufferStart }

    private func throwIfFailed() throws {
        guard result != CURLE_OK else { return }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
        throw HTTPTransportError(code: Int(result.rawValue), message: message, url: url)
    }

    public func read(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        while available == 0 && !finished {
            if paused {
                paused = false
                curl_easy_pause(easy, CURLPAUSE_CONT)
                continue
            }
            try step()
        }
        if available == 0 {
            try throwIfFailed()
            return 0
        }
        let count = min(target.count, available)
        buffer.withUnsafeBytes { source in
            target.baseAddress!.copyMemory(from: source.baseAddress! + bufferStart, byteCount: count)
        }
        bufferStart += count
        return count
    }
}
