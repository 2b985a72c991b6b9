/// Checksums that vendors build into their token formats. A token whose checksum verifies was
/// minted by the vendor's generator (or by someone who knew the format well enough to forge
/// one); a token whose checksum fails is almost always typed by hand: documentation, a test
/// fixture, a made-up example. Rules name one with `checksum = "…"`.
public enum Checksums {
    public enum Verdict: Sendable, Equatable { case valid, invalid }

    static let names = ["github-crc32", "npm-crc32"]

    static func named(_ name: String) -> ((String) -> Verdict)? {
        switch name {
        case "github-crc32", "npm-crc32": return base62CRC32
        default: return nil
        }
    }

    /// GitHub (ghp_, gho_, ghu_, ghs_, ghr_) and npm (npm_) tokens: after the prefix, 30 random
    /// base62 characters, then their CRC32 in base62 (0-9A-Za-z), left-padded with "0" to 6.
    static func base62CRC32(_ token: String) -> Verdict {
        guard let underscore = token.lastIndex(of: "_") else { return .invalid }
        let body = Array(token[token.index(after: underscore)...].utf8)
        guard body.count == 36 else { return .invalid }
        let payload = body[0..<30], check = body[30...]
        var value: UInt64 = 0
        for byte in check {
            guard let digit = base62Digit(byte) else { return .invalid }
            value = value * 62 + UInt64(digit)
        }
        return value == UInt64(crc32(payload)) ? .valid : .invalid
    }

    static func base62Digit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(byte - UInt8(ascii: "A")) + 10
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(byte - UInt8(ascii: "a")) + 36
        default: return nil
        }
    }

    static let crcTable: [UInt32] = (0..<256).map { index -> UInt32 in
        var c = UInt32(index)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (IEEE 802.3, as zlib computes it).
    public static func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
