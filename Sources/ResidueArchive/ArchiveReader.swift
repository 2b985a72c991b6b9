import CArchive
import Foundation

public struct ArchiveError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One entry of an archive, as libarchive reports it.
public struct ArchiveEntry: Sendable {
    public enum Kind: Sendable { case regular, directory, symlink, hardlink, other }
    /// The entry's name as stored (may be hostile: `../x`, absolute, not UTF-8). Bytes that are
    /// not UTF-8 are replaced, never trusted as a host path.
    public let name: String
    public let kind: Kind
    public let size: Int64
    public let linkTarget: String?
    /// Position of the entry's data in the (uncompressed) archive stream, when known.
    public let dataOffset: Int64
}

/// Reads a tar (or, for nested archives, zip) stream through libarchive. Compression is sniffed
/// from the bytes (gzip, zstd, bzip2, xz, none), whatever a media type or a name claims.
/// It owns its `archive*`; nothing outside this file sees the pointer.
public final class ArchiveReader: ByteSource {
    public enum Formats: Sendable {
        /// Image layers and image archives: tar only (with every format enabled, a small JSON
        /// blob can be recognised as "mtree").
        case tar
        /// Archives found inside a layer: tar, zip (jar, whl…), and a single compressed file.
        case nested
    }

    private let archive: OpaquePointer
    private let source: ByteSource
    private let what: String
    private var buffer: UnsafeMutableRawBufferPointer
    /// The error a read callback hit; reported instead of libarchive's generic message.
    private var sourceError: Error?
    private var opened = false
    /// Set when the stream is gzip: ISA-L inflates it and libarchive reads the tar inside.
    private let gzip: GzipSource?
    private var bytesFilled: Int64 = 0

    /// Bytes read from the (compressed) source so far.
    public var bytesRead: Int64 { gzip?.compressedBytes ?? bytesFilled }

    /// Bytes the decompressors have produced so far (the tar stream's position): with
    /// `bytesRead`, the expansion ratio that gives a decompression bomb away.
    public var uncompressedBytes: Int64 { archive_filter_bytes(archive, 0) }

    public init(source: ByteSource, formats: Formats, what: String, bufferSize: Int = 256 * 1024) throws {
        self.what = what
        // Gzip streams (most layers, and the .gz files inside them) are inflated by ISA-L rather
        // than libarchive's zlib filter: inflating is most of a cold scan's time. Other
        // compressions stay with libarchive.
        let (head, replay) = try Self.peek(source, count: 3)
        if head.withUnsafeBytes(GzipSource.startsGzipMember) {
            gzip = GzipSource(source: replay, what: what)
            self.source = gzip!
        } else {
            gzip = nil
            self.source = replay
        }
        guard let archive = archive_read_new() else { throw ArchiveError("\(what): out of memory") }
        self.archive = archive
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        archive_read_support_format_gnutar(archive)
        if formats == .nested {
            archive_read_support_format_zip_streamable(archive)
            archive_read_support_format_raw(archive)
        }
        let client = Unmanaged.passUnretained(self).toOpaque()
        archive_read_set_read_callback(archive, { _, client, pointer in
            let reader = Unmanaged<ArchiveReader>.fromOpaque(client!).takeUnretainedValue()
            return reader.fill(pointer)
        })
        archive_read_set_callback_data(archive, client)
        let status = archive_read_open1(archive)
        if status != ARCHIVE_OK {
            throw failure("cannot open")
        }
        opened = true
    }

    deinit {
        archive_read_free(archive)
        buffer.deallocate()
    }

    private func fill(_ pointer: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        do {
            let count = try source.read(into: buffer)
            bytesFilled += Int64(count)
            pointer?.pointee = UnsafeRawPointer(buffer.baseAddress)
            return count
        } catch {
            sourceError = error
            residue_archive_set_error(archive, "read failed")
            return -1
        }
    }

    /// The first `count` bytes of a stream (fewer if it is shorter), and a source that serves
    /// them again before the rest.
    private static func peek(_ source: ByteSource, count: Int) throws -> ([UInt8], ByteSource) {
        let head = try source.readPrefix(count: count)
        return (head, PrefixedSource(prefix: head, rest: source))
    }

    private func failure(_ action: String) -> Error {
        if let sourceError { return sourceError }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return ArchiveError("\(what): \(action): \(message)")
    }

    /// The next entry, or nil at the end of the archive.
    public func nextEntry() throws -> ArchiveEntry? {
        var entryPointer: OpaquePointer?
        let status = archive_read_next_header(archive, &entryPointer)
        if status == ARCHIVE_EOF {
            // libarchive can reach the end marker after a read callback failed: that failure wins.
            if let sourceError { throw sourceError }
            return nil
        }
        if status != ARCHIVE_OK && status != ARCHIVE_WARN { throw failure("cannot read entry header") }
        guard let entry = entryPointer else { throw failure("cannot read entry header") }
        let name = Self.decodeName(archive_entry_pathname(entry))
        var kind: ArchiveEntry.Kind = .other
        var link: String?
        if let hardlink = archive_entry_hardlink(entry) {
            kind = .hardlink
            link = Self.decodeName(hardlink)
        } else if residue_entry_is_regular(entry) != 0 {
            kind = .regular
        } else if residue_entry_is_directory(entry) != 0 {
            kind = .directory
        } else if residue_entry_is_symlink(entry) != 0 {
            kind = .symlink
            link = Self.decodeName(archive_entry_symlink(entry))
        }
        let size = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : -1
        return ArchiveEntry(name: name, kind: kind, size: size, linkTarget: link,
                            dataOffset: archive_read_header_position(archive) + 512)
    }

    private static func decodeName(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                        count: strlen(pointer))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the current entry's data (ByteSource: so an entry can itself be opened as an archive).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = archive_read_data(archive, buffer.baseAddress, buffer.count)
        if count < 0 { throw failure("cannot read entry data") }
        return count
    }

    /// Skips the current entry's data (libarchive seeks or decompresses past it).
    public func skipData() throws {
        if archive_read_data_skip(archive) != ARCHIVE_OK { throw failure("cannot skip entry data") }
    }

    /// Inflates what is left of a gzip stream after the tar's end marker, so that every
    /// member's CRC-32 and length are checked (as a runtime computing the layer's DiffID does);
    /// libarchive stops reading at the end marker. Nothing to do for other compressions.
    public func finishDecompressing() throws {
        try gzip?.drain()
    }

    /// True when the archive stream itself is not compressed (so entries are byte ranges of it).
    public var isUncompressed: Bool {
        gzip == nil && archive_filter_count(archive) <= 1
    }

    /// The compression libarchive detected: "none", "gzip", "zstd", …
    public var compression: String {
        if gzip != nil { return "gzip" }
        guard archive_filter_count(archive) > 1, let name = archive_filter_name(archive, 0) else { return "none" }
        return String(cString: name)
    }

    /// The archive format libarchive recognised ("raw" means a single compressed file).
    public var formatName: String {
        archive_format_name(archive).map { String(cString: $0) } ?? "unknown"
    }

    public var isRawFormat: Bool { archive_format(archive) == ARCHIVE_FORMAT_RAW }
}
