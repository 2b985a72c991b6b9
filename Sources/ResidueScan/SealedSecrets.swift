import Foundation
import ResidueArchive

/// A secret known only by a keyed hash of its bytes and its length: what a layer result read
/// back from the on-disk cache holds instead of the secret (the cache never stores one in clear).
/// Enough to group findings, and to find the secret again inside other text (an instruction)
/// to mask it there.
public struct SealedSecret: Sendable, Hashable, Codable {
    /// Hex of the keyed hash (see `SecretSealer`).
    public let digest: String
    /// Length of the secret in UTF-8 bytes.
    public let length: Int
    /// A keyed rolling hash of the secret (Rabin–Karp): finds candidates in text in one pass
    /// per length; `digest` confirms them.
    public let rolling: UInt64

    public init(digest: String, length: Int, rolling: UInt64) {
        self.digest = digest
        self.length = length
        self.rolling = rolling
    }
}

/// Turns a secret into a `SealedSecret` with a key of its own (the cache keeps its key next to
/// its database, readable by its owner only).
public protocol SecretSealer: Sendable {
    func seal<Bytes: Collection>(_ bytes: Bytes) -> SealedSecret where Bytes.Element == UInt8
    /// The digest part only (to confirm a rolling-hash candidate).
    func digest<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8
    /// The multiplier of the rolling hash (odd, derived from the key).
    var base: UInt64 { get }
}

/// A sealer keyed by random bytes: SHA-256 over key, a separator and the secret.
public struct KeyedSecretSealer: SecretSealer {
    let key: [UInt8]
    public let base: UInt64

    public init(key: [UInt8]) {
        self.key = key
        base = key.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } | 1
    }

    public func digest<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(Digest.sha256(of: key + [0] + Array(bytes)).hex.prefix(32))
    }

    public func seal<Bytes: Collection>(_ bytes: Bytes) -> SealedSecret where Bytes.Element == UInt8 {
        SealedSecret(digest: digest(bytes), length: bytes.count,
                     rolling: bytes.reduce(UInt64(0)) { $0 &* base &+ UInt64($1) })
    }
}

/// Sealed secrets to mask in free text (instructions, remediation), each with its masked form.
/// One rolling-hash pass per distinct length finds candidates; a keyed SHA-256 confirms them.
/// Results are remembered per text (the same instruction is masked for many findings).
public struct SealedSecrets: Sendable {
    let sealer: SecretSealer
    /// length → rolling hash → [(digest, masked)].
    let byLength: [Int: [UInt64: [(digest: String, masked: String)]]]
    /// One bit per value of a rolling hash's top 16 bits, set for every sealed secret: most
    /// windows are ruled out by one bit test instead of a dictionary lookup (SipHash per byte).
    let filter: [UInt64]
    private let memo = Memo()

    final class Memo: @unchecked Sendable {
        let lock = NSLock()
        var texts: [String: String] = [:]
    }

    init?(_ secrets: [(SealedSecret, masked: String)], sealer: SecretSealer?) {
        guard let sealer, !secrets.isEmpty else { return nil }
        var byLength: [Int: [UInt64: [(digest: String, masked: String)]]] = [:]
        for (secret, masked) in secrets where secret.length > 0 {
            byLength[secret.length, default: [:]][secret.rolling, default: []].append((secret.digest, masked))
        }
        self.sealer = sealer
        self.byLength = byLength
        var filter = [UInt64](repeating: 0, count: 1024)
        for (secret, _) in secrets where secret.length > 0 {
            let bit = Int(secret.rolling >> 48)
            filter[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        self.filter = filter
    }

    func scrub(_ text: String) -> String {
        if let known = memo.lock.withLock({ memo.texts[text] }) { return known }
        let result = compute(text)
        memo.lock.withLock { memo.texts[text] = result }
        return result
    }

    private func compute(_ text: String) -> String {
        let bytes = Array(text.utf8)
        // Every confirmed occurrence: (range, masked).
        var found: [(Range<Int>, String)] = []
        let base = sealer.base
        for (length, candidates) in byLength where length <= bytes.count {
            var power: UInt64 = 1 // base^length
            for _ in 0..<length { power = power &* base }
            var hash: UInt64 = 0
            for index in 0..<bytes.count {
                hash = hash &* base &+ UInt64(bytes[index])
                if index >= length { hash = hash &- UInt64(bytes[index - length]) &* power }
                guard index + 1 >= length else { continue }
                let bit = Int(hash >> 48)
                guard filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0, let matches = candidates[hash] else { continue }
                let range = (index + 1 - length)..<(index + 1)
                let digest = sealer.digest(bytes[range])
                if let match = matches.first(where: { $0.digest == digest }) { found.append((range, match.masked)) }
            }
        }
        guard !found.isEmpty else { return text }
        // Leftmost first, longer first at the same place; skip overlaps.
        found.sort { $0.0.lowerBound != $1.0.lowerBound ? $0.0.lowerBound < $1.0.lowerBound : $0.0.count > $1.0.count }
        var result: [UInt8] = []
        var last = 0
        for (range, masked) in found where range.lowerBound >= last {
            result += bytes[last..<range.lowerBound]
            result += Array(masked.utf8)
            last = range.upperBound
        }
        result += bytes[last...]
        return String(decoding: result, as: UTF8.self)
    }
}
