import CISAL
import Foundation

/// Inflates a gzip stream with Intel ISA-L: the tar bytes of a gzip layer, for libarchive to
/// read as an uncompressed tar. ISA-L inflates layer-sized streams about twice as fast as zlib
/// (which libarchive would use), and inflating is most of what a cold scan costs.
///
/// Like `gzip -d` it reads every member of a multi-member stream (`cat a.gz b.gz`); like
/// libarchive and the tar readers of container runtimes, it ignores bytes after the last member
/// that do not start another one (they are still read and digested by the layer's source).
/// Corrupt or truncated data is an error that names the stream; the CRC-32 and length in each
/// member's trailer are verified.
///
/// Member headers are read here with `isal_read_gzip_header` and a header record kept between
/// calls, not by `isal_inflate`: ISA-L 2.30's inflate parses the header with a fresh record on
/// every call, so a header split across reads (a file name cut by a read boundary) is resumed
/// with uninitialised flags and can fail or skip data (GzipSourceTests reads in 1-byte chunks).
final class GzipSource: ByteSource {
    private let source: ByteSource
    private let what: String
    private let state: UnsafeMutablePointer<inflate_state>
    private let header: UnsafeMutablePointer<isal_gzip_header>
    private let input: UnsafeMutableRawBufferPointer
    private var inputEnded = false
    private var finished = false
    /// Compressed bytes read from the source so far (the expansion ratio's denominator).
    private(set) var compressedBytes: Int64 = 0

    /// A gzip member header: magic 1f 8b, method 8 (deflate), the only method gzip defines.
    static func startsGzipMember(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 3 && bytes[0] == 0x1f && bytes[1] == 0x8b && bytes[2] == 8
    }

    /// Compressed bytes read from the source at a time.
    private static let inputSize = 256 * 1024

    init(source: ByteSource, what: String) {
        self.source = source
        self.what = what
        state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
        state.initialize(to: inflate_state())
        header = UnsafeMutablePointer<isal_gzip_header>.allocate(capacity: 1)
        header.initialize(to: isal_gzip_header())
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.inputSize, alignment: 16)
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
        isal_gzip_header_init(header)
    }

    deinit {
        state.deallocate()
        header.deallocate()
        input.deallocate()
    }

    /// Resets the inflater for the next member, keeping the unread input.
    private func startMember() {
        let next = state.pointee.next_in, available = state.pointee.avail_in
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
        isal_gzip_header_init(header)
        state.pointee.next_in = next
        state.pointee.avail_in = available
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let output = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            if state.pointee.avail_in == 0 && !inputEnded { try refill() }
            if state.pointee.wrapper_flag == 0 {
                // The member header (no name, comment or extra buffers: those are skipped).
                let status = isal_read_gzip_header(state, header)
                if status == ISAL_END_INPUT {
                    if inputEnded { throw ArchiveError("\(what): truncated gzip data: the stream ends inside a member header") }
                    continue
                }
                if status != ISAL_DECOMP_OK { throw corrupt(status) }
            }
            state.pointee.next_out = output.assumingMemoryBound(to: UInt8.self)
            state.pointee.avail_out = UInt32(clamping: buffer.count)
            let pending = state.pointee.avail_in
            let status = isal_inflate(state)
            if status != ISAL_DECOMP_OK && status != ISAL_END_INPUT { throw corrupt(status) }
            let produced = buffer.count - Int(state.pointee.avail_out)
            if state.pointee.block_state == ISAL_BLOCK_FINISH {
                if try nextMemberFollows() { startMember() } else { finished = true }
                // 0 means the end of the stream: with another member to come, go on to it.
                if produced > 0 || finished { return produced }
                continue
            }
            if produced > 0 { return produced }
            if pending > 0 && state.pointee.avail_in == pending {
                // Neither consumed nor produced anything: never loop on it.
                throw ArchiveError("\(what): corrupt gzip data: the inflater made no progress")
            }
            if state.pointee.avail_in == 0 && inputEnded {
                throw ArchiveError("\(what): truncated gzip data: the stream ends inside a deflate block")
            }
        }
    }

    /// After a member's trailer: true when the next bytes start another member.
    private func nextMemberFollows() throws -> Bool {
        while state.pointee.avail_in < 3 && !inputEnded { try refill() }
        guard let next = state.pointee.next_in else { return false }
        return Self.startsGzipMember(UnsafeRawBufferPointer(start: next, count: Int(state.pointee.avail_in)))
    }

    /// Keeps the unread input (moved to the front of the buffer) and reads more after it.
    private func refill() throws {
        let kept = Int(state.pointee.avail_in)
        if kept > 0, let next = state.pointee.next_in {
            memmove(input.baseAddress!, next, kept) // the kept bytes may overlap their new place
        }
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: input[kept...]))
        if count == 0 { inputEnded = true }
        compressedBytes += Int64(count)
        state.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_in = UInt32(kept + count)
    }

    private func corrupt(_ status: Int32) -> ArchiveError {
        let reason: String
        switch status {
        case ISAL_INVALID_BLOCK: reason = "invalid deflate block"
        case ISAL_INVALID_SYMBOL: reason = "invalid deflate symbol"
        case ISAL_INVALID_LOOKBACK: reason = "invalid back-reference distance"
        case ISAL_INVALID_WRAPPER: reason = "invalid gzip header or trailer"
        case ISAL_UNSUPPORTED_METHOD: reason = "unsupported compression method"
        case ISAL_INCORRECT_CHECKSUM: reason = "CRC-32 or length in the trailer does not match the data"
        default: reason = "inflate error \(status)"
        }
        return ArchiveError("\(what): corrupt gzip data: \(reason)")
    }
}
