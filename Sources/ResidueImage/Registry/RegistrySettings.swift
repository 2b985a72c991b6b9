import Foundation

/// How to reach registries and the Docker daemon: credentials, TLS, retries.
public struct RegistrySettings: Sendable {
    /// `--creds USER:PASS`: used for every registry, before any auth file.
    public var credentials: Credentials?
    /// An auth file to read first (`--authfile`); then `$REGISTRY_AUTH_FILE`, then
    /// `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`).
    public var authFile: String?
    /// `--tls-verify=false`: accept any certificate, and plain http when the registry speaks no TLS.
    public var tlsVerify = true
    public var retry = RetryPolicy()
    /// Seconds without a byte before a transfer is abandoned (and retried).
    public var stallTimeout = 60

    public init() {}

    public struct Credentials: Sendable, Equatable {
        public var username: String
        public var password: String
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        /// `USER:PASS` (the password may contain `:`).
        public init?(_ text: String) {
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
            self.init(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
    }
}

/// Bounded retries with exponential backoff; a server's `Retry-After` is honoured up to `maximumDelay`.
public struct RetryPolicy: Sendable {
    public var attempts = 5
    public var baseDelay = 0.5
    public var maximumDelay = 30.0

    public init() {}

    public func delay(afterAttempt attempt: Int, retryAfter: Double? = nil) -> Double {
        if let retryAfter { return min(max(retryAfter, 0), maximumDelay) }
        return min(baseDelay * pow(2, Double(attempt - 1)), maximumDelay)
    }

    /// `Retry-After: 3` or an HTTP date.
    public static func parseRetryAfter(_ value: String?) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { $0.timeIntervalSinceNow }
    }
}
