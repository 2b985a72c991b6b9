import Foundation

/// A minimal HTTP/1.1 server on 127.0.0.1 for tests: one request per connection
/// (`Connection: close`), a thread per connection, 10 s socket timeouts so nothing hangs.
final class TinyHTTP: @unchecked Sendable {
    struct Request {
        var method: String
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var head: String
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var running = true
    private let finished = DispatchGroup()

    init(handler: @escaping @Sendable (Int32, Request) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 64) == 0 else { throw CocoaError(.fileWriteUnknown) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        finished.enter()
        Thread.detachNewThread { [self] in
            defer { finished.leave() }
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if lock.withLock({ running }) && errno == EINTR { continue }
                    return
                }
                Self.setTimeouts(client)
                finished.enter()
                DispatchQueue.global().async {
                    defer { self.finished.leave() }
                    if let request = Self.readRequest(client) { handler(client, request) }
                    close(client)
                }
            }
        }
    }

    func stop() {
        let wasRunning = lock.withLock { defer { running = false }; return running }
        guard wasRunning else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        _ = finished.wait(timeout: .now() + 15)
    }

    deinit { stop() }

    static func setTimeouts(_ fd: Int32) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 { close(fd); return nil }
        setTimeouts(fd)
        return fd
    }

    static func readRequest(_ fd: Int32) -> Request? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        var headEnd: Int?
        while headEnd == nil {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return nil }
            data += chunk[0..<n]
            // A TLS ClientHello (a client probing for https): hang up at once, as real servers do.
            if data.first == 0x16 { return nil }
            headEnd = find(data, [13, 10, 13, 10])
        }
        let head = String(decoding: data[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(headEnd! + 4)...])
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < length {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            body += chunk[0..<n]
        }
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body, head: head)
    }

    static func find(_ data: [UInt8], _ pattern: [UInt8]) -> Int? {
        guard data.count >= pattern.count else { return nil }
        for index in 0...(data.count - pattern.count) where data[index..<(index + pattern.count)].elementsEqual(pattern) {
            return index
        }
        return nil
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }

    static func respond(_ fd: Int32, status: Int, reason: String, headers: [String: String] = [:], body: [UInt8] = []) {
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        write(fd, Array((head + "\r\n").utf8) + body)
    }

    /// Sends a request to 127.0.0.1:port and reads the whole response (the connection is closed after it).
    static func forward(_ request: Request, toPort port: Int, extraHeaders: [String: String] = [:]) -> [UInt8]? {
        guard let fd = connect(port: port) else { return nil }
        defer { close(fd) }
        var head = "\(request.method) \(request.path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in request.headers where !["host", "connection"].contains(name) { head += "\(name): \(value)\r\n" }
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        write(fd, Array((head + "\r\n").utf8) + request.body)
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        return response
    }
}

/// A reverse proxy in front of a real registry that injects faults: statuses (429 with
/// Retry-After, 503), connection resets in the middle of a body, bodies cut short, redirects
/// to another origin. Each fault fires a set number of times on requests whose path contains a
/// string, then the proxy forwards faithfully. It records what it saw.
final class FaultProxy: @unchecked Sendable {
    enum Fault: Sendable {
        case status(Int, retryAfter: Int?)
        case reset
        case truncate
        /// Answer 307 to `other` (a different origin: another port).
        case redirect
    }

    struct Rule {
        var pathContains: String
        var fault: Fault
        var remaining: Int
    }

    struct Seen {
        var method: String
        var path: String
        var authorization: String?
        var range: String?
        var viaRedirect: Bool
    }

    private let lock = NSLock()
    private var rules: [Rule] = []
    private(set) var seen: [Seen] = []
    private(set) var injected = 0
    private var server: TinyHTTP!
    /// A second origin that redirected requests land on; it fetches from the registry itself
    /// with `storageAuthorization` (like blob storage with a signed URL).
    private var storage: TinyHTTP!
    var storageAuthorization: String?
    let upstream: Int
    var port: Int { server.port }

    init(upstream: Int) throws {
        self.upstream = upstream
        server = try TinyHTTP { [unowned self] fd, request in self.handle(fd, request) }
        storage = try TinyHTTP { [unowned self] fd, request in self.serveStorage(fd, request) }
    }

    func add(_ fault: Fault, on pathContains: String, times: Int = 1) {
        lock.withLock { rules.append(Rule(pathContains: pathContains, fault: fault, remaining: times)) }
    }

    func clear() { lock.withLock { rules = []; seen = []; injected = 0 } }

    var injectedCount: Int { lock.withLock { injected } }
    var requests: [Seen] { lock.withLock { seen } }

    func stop() {
        server.stop()
        storage.stop()
    }

    private func takeFault(for path: String) -> Fault? {
        lock.withLock {
            guard let index = rules.firstIndex(where: { path.contains($0.pathContains) && $0.remaining > 0 }) else { return nil }
            rules[index].remaining -= 1
            injected += 1
            return rules[index].fault
        }
    }

    private func handle(_ fd: Int32, _ request: TinyHTTP.Request) {
        lock.withLock {
            seen.append(Seen(method: request.method, path: request.path, authorization: request.headers["authorization"],
                             range: request.headers["range"], viaRedirect: false))
        }
        let fault = takeFault(for: request.path)
        switch fault {
        case let .status(code, retryAfter)?:
            TinyHTTP.respond(fd, status: code, reason: code == 429 ? "Too Many Requests" : "Service Unavailable",
                             headers: retryAfter.map { ["Retry-After": "\($0)"] } ?? [:])
            return
        case .redirect?:
            TinyHTTP.respond(fd, status: 307, reason: "Temporary Redirect",
                             headers: ["Location": "http://127.0.0.1:\(storage.port)\(request.path)"])
            return
        default:
            break
        }
        guard let response = TinyHTTP.forward(request, toPort: upstream) else {
            TinyHTTP.respond(fd, status: 502, reason: "Bad Gateway")
            return
        }
        let headEnd = (TinyHTTP.find(response, [13, 10, 13, 10]) ?? response.count - 4) + 4
        switch fault {
        case .reset?:
            // Headers and part of the body, then a TCP reset (SO_LINGER 0).
            TinyHTTP.write(fd, Array(response[0..<min(response.count, headEnd + (response.count - headEnd) / 3)]))
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case .truncate?:
            // Headers (with the full Content-Length) and half the body, then a clean close.
            TinyHTTP.write(fd, Array(response[0..<min(response.count, headEnd + (response.count - headEnd) / 2)]))
        default:
            TinyHTTP.write(fd, response)
        }
    }

    private func serveStorage(_ fd: Int32, _ request: TinyHTTP.Request) {
        lock.withLock {
            seen.append(Seen(method: request.method, path: request.path, authorization: request.headers["authorization"],
                             range: request.headers["range"], viaRedirect: true))
        }
        var forwarded = request
        forwarded.headers["authorization"] = nil
        let extra = storageAuthorization.map { ["Authorization": $0] } ?? [:]
        guard let response = TinyHTTP.forward(forwarded, toPort: upstream, extraHeaders: extra) else {
            TinyHTTP.respond(fd, status: 502, reason: "Bad Gateway")
            return
        }
        TinyHTTP.write(fd, response)
    }
}
