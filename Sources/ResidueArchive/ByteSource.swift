import Foundation

/// A sequential reader of bytes: a file, a byte range of a file, an entry inside an archive,
/// an HTTP body. Everything residue reads flows through one of these, so a layer is never
/// extracted to disk nor held whole in memory.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads the rest of the stream into memory, failing past `limit` bytes (for manifests and
    /// configs, which are small; never for layers).
    public func readAll(limit: Int, what: String) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
            if result.count > limit {
                throw ByteSourceError.tooLarge(what: what, limit: limit)
            }
        }
    }

    /// Reads the next `count` bytes (fewer only where the stream ends first): a header to sniff.
    public func readPrefix(count: Int) throws -> [UInt8] {
        var head = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try head.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if got == 0 { break }
            filled += got
        }
        head.removeLast(count - filled)
        return head
    }

    /// Reads and discards the rest of the stream (so a verifying source sees every byte).
    public func drain() throws {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while try chunk.withUnsafeMutableBytes({ try read(into: $0) }) > 0 {}
    }
}

public enum ByteSourceError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case truncated(what: String, expected: Int64, got: Int64)
    case tooLarge(what: String, limit: Int)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .readFailed(path, reason): return "cannot read \(path): \(reason)"
        case let .truncated(what, expected, got): return "\(what) is truncated: expected \(expected) bytes, got \(got)"
        case let .tooLarge(what, limit): return "\(what) is larger than \(limit) bytes"
        }
    }
}

/// An open file descriptor shared by the ranges read from it (`pread` keeps them independent,
/// so several layers of one archive can be read in parallel).
public final class SharedFile: @unchecked Sendable {
    public let path: String
    let descriptor: Int32
    public let size: Int64

    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            throw ByteSourceError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        var info = stat()
        if fstat(descriptor, &info) != 0 || (info.st_mode & S_IFMT) != S_IFREG {
            close(descriptor)
            throw ByteSourceError.cannotOpen(path: path, reason: "not a regular file")
        }
        size = Int64(info.st_size)
    }

    deinit { close(descriptor) }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw ByteSourceError.readFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Bytes `offset ..< offset+length` of a file: a whole blob file, or a blob stored inside an
/// uncompressed tar.
public final class FileRangeSource: ByteSource {
    let file: SharedFile
    var position: Int64
    let end: Int64
    let what: String

    public init(file: SharedFile, offset: Int64 = 0, length: Int64? = nil, what: String? = nil) {
        self.file = file
        position = offset
        end = offset + (length ?? (file.size - offset))
        self.what = what ?? file.path
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let wanted = Int(min(Int64(buffer.count), end - position))
        if wanted <= 0 { return 0 }
        let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: position)
        if count == 0 {
            throw ByteSourceError.truncated(what: what, expected: end, got: position)
        }
        position += Int64(count)
        return count
    }
}

/// Serves bytes that were already read (a sniffed prefix), then the rest of another source.
public final class PrefixedSource: ByteSource {
    var prefix: [UInt8]
    var prefixOffset = 0
    let rest: ByteSource

    public init(prefix: [UInt8], rest: ByteSource) {
        self.prefix = prefix
        self.rest = rest
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if prefixOffset < prefix.count {
            let count = min(buffer.count, prefix.count - prefixOffset)
            prefix.withUnsafeBytes { bytes in
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + prefixOffset, byteCount: count)
            }
            prefixOffset += count
            return count
        }
        return try rest.read(into: buffer)
    }
}

/// Bytes held in memory (a small blob, a test input).
public final class MemorySource: ByteSource {
    let bytes: [UInt8]
    var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        if count <= 0 { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}
