import CCrypto
import Foundation

/// A content digest such as `sha256:9f86d0…`, as used by OCI descriptors.
public struct Digest: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public enum Algorithm: String, Sendable {
        case sha256, sha512
        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    public let hex: String

    /// Parses `algorithm:hex`; nil for anything else (an unknown algorithm, a wrong length,
    /// upper-case or non-hex characters), so a hostile manifest cannot smuggle a path in.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let algorithm = Algorithm(rawValue: String(parts[0])) else { return nil }
        let hex = String(parts[1])
        guard hex.count == algorithm.hexLength,
              hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
        self.algorithm = algorithm
        self.hex = hex
    }

    public init(algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }
    public var short: String { "\(algorithm.rawValue):\(hex.prefix(12))" }
    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = Digest(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a digest: \(text.prefix(80))"))
        }
        self = digest
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func sha256(of bytes: [UInt8]) -> Digest {
        let hasher = Hasher(.sha256)
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finish()
    }

    public static func sha256(of text: String) -> Digest { sha256(of: Array(text.utf8)) }

    /// An incremental hash (OpenSSL's EVP), fed as bytes stream past.
    public final class Hasher {
        let context: OpaquePointer
        let algorithm: Algorithm

        public init(_ algorithm: Algorithm) {
            self.algorithm = algorithm
            context = EVP_MD_CTX_new()
            EVP_DigestInit_ex(context, algorithm == .sha256 ? EVP_sha256() : EVP_sha512(), nil)
        }

        deinit { EVP_MD_CTX_free(context) }

        public func update(_ bytes: UnsafeRawBufferPointer) {
            if bytes.count > 0 { EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }
        }

        public func finish() -> Digest {
            var output = [UInt8](repeating: 0, count: 64)
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &output, &length)
            let hex = output[0..<Int(length)].map { String(format: "%02x", $0) }.joined()
            return Digest(algorithm: algorithm, hex: hex)
        }
    }
}

public struct DigestMismatch: Error, CustomStringConvertible {
    public let what: String
    public let expected: Digest
    public let actual: Digest
    public init(what: String, expected: Digest, actual: Digest) {
        self.what = what
        self.expected = expected
        self.actual = actual
    }
    public var description: String { "\(what): digest mismatch: expected \(expected), content hashes to \(actual)" }
}

/// Passes bytes through while hashing them; at the end of the stream, checks the digest and,
/// when known, the length. A blob that does not match is an error, never a partial scan.
public final class VerifyingSource: ByteSource {
    let inner: ByteSource
    let expected: Digest
    let expectedSize: Int64?
    let hasher: Digest.Hasher
    let what: String
    var count: Int64 = 0
    var finished = false

    public init(_ inner: ByteSource, expected: Digest, size: Int64? = nil, what: String) {
        self.inner = inner
        self.expected = expected
        expectedSize = size
        hasher = Digest.Hasher(expected.algorithm)
        self.what = what
    }

    /// The verdict at the end of the stream, repeated to every later read: a reader that saw
    /// the error once (libarchive may swallow it past the tar end marker) sees it again.
    var failure: Error?

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failure { throw failure }
        if finished { return 0 }
        do {
            return try readVerifying(into: buffer)
        } catch {
            failure = error
            throw error
        }
    }

    private func readVerifying(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        if n > 0 {
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            count += Int64(n)
            if let size = expectedSize, count > size {
                throw ByteSourceError.tooLarge(what: "\(what) (\(expected.short))", limit: Int(size))
            }
            return n
        }
        finished = true
        if let size = expectedSize, count != size {
            throw ByteSourceError.truncated(what: "\(what) (\(expected.short))", expected: size, got: count)
        }
        let actual = hasher.finish()
        if actual != expected { throw DigestMismatch(what: what, expected: expected, actual: actual) }
        return 0
    }
}
