import Foundation
import ResidueArchive

/// Named files of an image container: a directory (OCI layout) or a tar (docker-archive,
/// oci-archive). Names are relative, `/`-separated; `..` never leaves the container.
protocol FileStore: Sendable {
    var what: String { get }
    func exists(_ name: String) -> Bool
    func open(_ name: String) throws -> ByteSource
}

extension FileStore {
    func readSmall(_ name: String, limit: Int = 64 << 20) throws -> [UInt8] {
        try open(name).readAll(limit: limit, what: "\(what): \(name)")
    }

    /// Reads a blob and checks it against its descriptor's digest and size.
    func readVerified(_ name: String, digest: Digest, size: Int64?, limit: Int = 64 << 20) throws -> [UInt8] {
        let source = VerifyingSource(try open(name), expected: digest, size: size, what: "\(what): \(name)")
        return try source.readAll(limit: limit, what: "\(what): \(name)")
    }
}

/// Lexically normalises an archive entry name: strips `./` and leading `/`, resolves `..`
/// without ever going above the root. Used for lookups only, never as a host path.
func normalizeEntryName(_ name: String) -> String {
    var parts: [Substring] = []
    for part in name.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
        parts.append(part)
    }
    return parts.joined(separator: "/")
}

struct DirectoryStore: FileStore {
    let root: String
    var what: String { root }

    func path(_ name: String) -> String {
        (root as NSString).appendingPathComponent(normalizeEntryName(name))
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    func open(_ name: String) throws -> ByteSource {
        let full = path(name)
        guard FileManager.default.fileExists(atPath: full) else {
            throw ImageError("\(root): \(name) is missing")
        }
        return FileRangeSource(file: try SharedFile(path: full), what: "\(root): \(name)")
    }
}

/// An uncompressed tar read in place: one pass over its headers records where each entry's
/// data lies, then each entry is a byte range of the file (read in parallel, no temp files).
/// A compressed outer tar (`docker save | gzip`) is streamed again for each entry instead.
final class TarStore: FileStore, @unchecked Sendable {
    struct Entry {
        var offset: Int64
        var size: Int64
        var link: String?
        var isSymlink: Bool
    }

    let path: String
    let file: SharedFile
    private(set) var entries: [String: Entry] = [:]
    let isCompressed: Bool
    var what: String { path }

    init(path: String) throws {
        self.path = path
        file = try SharedFile(path: path)
        let file = self.file
        var header = [UInt8](repeating: 0, count: 512)
        let count = try header.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        isCompressed = !(count == 512 && TarHeaderIndex.hasUstarMagic(header))
        if isCompressed {
            entries = try Self.indexByStreaming(file: file, path: path)
        } else {
            entries = try TarHeaderIndex(file: file, path: path).entries
        }
    }

    /// Lists a compressed tar through libarchive (offsets are unknown: entries are re-streamed).
    private static func indexByStreaming(file: SharedFile, path: String) throws -> [String: Entry] {
        let reader = try ArchiveReader(source: FileRangeSource(file: file), formats: .tar, what: path)
        var entries: [String: Entry] = [:]
        while let entry = try reader.nextEntry() {
            let link = entry.kind == .symlink || entry.kind == .hardlink ? entry.linkTarget : nil
            entries[normalizeEntryName(entry.name)] = Entry(offset: -1, size: entry.size, link: link,
                                                            isSymlink: entry.kind == .symlink)
            try reader.skipData()
        }
        return entries
    }

    func exists(_ name: String) -> Bool { (try? resolve(name)) != nil }

    /// Follows symlinks and hardlinks (legacy `docker save` links duplicate layers), at most 8 hops.
    func resolve(_ name: String) throws -> (name: String, entry: Entry) {
        var current = normalizeEntryName(name)
        for _ in 0..<8 {
            guard let entry = entries[current] else { throw ImageError("\(path): \(name) is missing from the archive") }
            guard let link = entry.link else { return (current, entry) }
            if entry.isSymlink {
                let directory = (current as NSString).deletingLastPathComponent
                current = normalizeEntryName(link.hasPrefix("/") ? link : directory + "/" + link)
            } else {
                current = normalizeEntryName(link)
            }
        }
        throw ImageError("\(path): \(name) is a link loop")
    }

    func open(_ name: String) throws -> ByteSource {
        let (resolvedName, entry) = try resolve(name)
        let what = "\(path): \(resolvedName)"
        if !isCompressed {
            guard entry.offset + entry.size <= file.size else {
                throw ByteSourceError.truncated(what: what, expected: entry.size, got: max(0, file.size - entry.offset))
            }
            return FileRangeSource(file: file, offset: entry.offset, length: entry.size, what: what)
        }
        let reader = try ArchiveReader(source: FileRangeSource(file: file), formats: .tar, what: path)
        while let candidate = try reader.nextEntry() {
            if normalizeEntryName(candidate.name) == resolvedName { return reader }
            try reader.skipData()
        }
        throw ImageError("\(path): \(name) is missing from the archive")
    }
}

/// Walks the 512-byte headers of an uncompressed tar (ustar, GNU long names, pax) to learn the
/// exact offset of every entry's data. libarchive does not expose data offsets, and pax or
/// long-name headers make `header position + 512` wrong.
struct TarHeaderIndex {
    var entries: [String: TarStore.Entry] = [:]

    static func hasUstarMagic(_ header: [UInt8]) -> Bool {
        header.count >= 263 && header[257] == 0x75 && header[258] == 0x73 && header[259] == 0x74
            && header[260] == 0x61 && header[261] == 0x72 // "ustar"
    }

    init(file: SharedFile, path: String) throws {
        var offset: Int64 = 0
        var header = [UInt8](repeating: 0, count: 512)
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while offset + 512 <= file.size {
            let count = try header.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
            guard count == 512 else { throw ArchiveError("\(path): truncated tar header at byte \(offset)") }
            if header.allSatisfy({ $0 == 0 }) { return }
            guard Self.checksumMatches(header) else {
                throw ArchiveError("\(path): damaged tar header at byte \(offset) (checksum mismatch)")
            }
            guard var size = Self.number(header[124..<136]), size >= 0 else {
                throw ArchiveError("\(path): tar header at byte \(offset) has an invalid size")
            }
            let type = header[156]
            let dataOffset = offset + 512
            if let paxSize = pax["size"], let value = Int64(paxSize) { size = value }
            guard dataOffset + size <= file.size else {
                throw ArchiveError("\(path): truncated: an entry at byte \(offset) needs \(size) bytes, the file ends first")
            }
            let padded = (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                var bytes = [UInt8](repeating: 0, count: Int(min(size, 1 << 20)))
                _ = try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: dataOffset) }
                let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                if type == UInt8(ascii: "L") { longName = text } else { longLink = text }
            case UInt8(ascii: "x"):
                var bytes = [UInt8](repeating: 0, count: Int(min(size, 1 << 20)))
                _ = try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: dataOffset) }
                pax = Self.parsePax(bytes)
            case UInt8(ascii: "g"):
                break
            default:
                var name = longName ?? pax["path"] ?? Self.string(header[0..<100])
                if longName == nil, pax["path"] == nil {
                    let prefix = Self.string(header[345..<500])
                    if !prefix.isEmpty { name = prefix + "/" + name }
                }
                let link = longLink ?? pax["linkpath"] ?? Self.string(header[157..<257])
                let isLink = type == UInt8(ascii: "1") || type == UInt8(ascii: "2")
                entries[normalizeEntryName(name)] = TarStore.Entry(
                    offset: dataOffset, size: isLink ? 0 : size,
                    link: isLink ? link : nil, isSymlink: type == UInt8(ascii: "2"))
                longName = nil
                longLink = nil
                pax = [:]
            }
            offset = dataOffset + padded
        }
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Octal (NUL/space padded) or GNU base-256 numbers.
    static func number(_ bytes: ArraySlice<UInt8>) -> Int64? {
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3f)
            for byte in bytes.dropFirst() {
                if value > (Int64.max >> 8) { return nil }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        let digits = bytes.drop { $0 == 0x20 }.prefix { $0 >= 0x30 && $0 <= 0x37 }
        if digits.isEmpty { return 0 }
        var value: Int64 = 0
        for digit in digits {
            if value > (Int64.max >> 3) { return nil }
            value = value << 3 | Int64(digit - 0x30)
        }
        return value
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = number(header[148..<156]) else { return false }
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() {
            sum += (148..<156).contains(index) ? 0x20 : Int64(byte)
        }
        return sum == stored
    }

    /// pax records: "LEN key=value\n"…
    static func parsePax(_ bytes: [UInt8]) -> [String: String] {
        var result: [String: String] = [:]
        var index = 0
        while index < bytes.count {
            guard let space = bytes[index...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)),
                  length > 0, index + length <= bytes.count else { break }
            let record = bytes[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                result[String(decoding: record[record.startIndex..<equals], as: UTF8.self)] =
                    String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return result
    }
}
