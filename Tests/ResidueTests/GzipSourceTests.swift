import Foundation
@testable import ResidueArchive
import XCTest

/// Gzip layers are inflated by ISA-L (GzipSource), not libarchive: the tar read through it must
/// be the one `gzip -d` gives, whatever the read sizes, member boundaries or trailing bytes; and
/// every damaged stream must fail, naming the stream.
final class GzipSourceTests: XCTestCase {
    /// Serves bytes in chunks of `chunk` (member headers and trailers then straddle reads).
    final class ChunkedSource: ByteSource {
        let bytes: [UInt8]
        let chunk: Int
        var offset = 0
        init(_ bytes: [UInt8], chunk: Int) { self.bytes = bytes; self.chunk = chunk }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let count = min(chunk, buffer.count, bytes.count - offset)
            if count <= 0 { return 0 }
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            offset += count
            return count
        }
    }

    struct Entry: Equatable { let name: String; let digest: Digest }

    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residue-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A tar of `files` files (about 300 KB each of varied text, so the deflate stream has many
    /// blocks and spans many reads), made by the real `tar`.
    func makeTar(files: Int, name: String) throws -> [UInt8] {
        let root = directory.appendingPathComponent("\(name)-files")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        for index in 0..<files {
            var text = ""
            while text.utf8.count < 300_000 {
                text += "line \(generator.next() % 100_000) of file \(index): \(String(repeating: "abcdefgh", count: Int(generator.next() % 20)))\n"
            }
            try text.write(to: root.appendingPathComponent("file\(index).txt"), atomically: false, encoding: .utf8)
        }
        let tar = directory.appendingPathComponent("\(name).tar")
        let result = try Tools.run(["tar", "-C", root.path, "-cf", tar.path, "."])
        XCTAssertEqual(result.status, 0, result.output)
        return Array(try Data(contentsOf: tar))
    }

    /// The bytes `gzip -c` writes for `bytes`.
    func gzip(_ bytes: [UInt8], name: String) throws -> [UInt8] {
        let file = directory.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        let result = try Tools.run(["gzip", "-f", file.path])
        XCTAssertEqual(result.status, 0, result.output)
        return Array(try Data(contentsOf: file.appendingPathExtension("gz")))
    }

    /// Every entry's name and content digest, read through ArchiveReader, then the rest of the
    /// stream (trailers included).
    func entries(_ source: ByteSource, what: String = "layer 9") throws -> (entries: [Entry], reader: ArchiveReader) {
        let reader = try ArchiveReader(source: source, formats: .tar, what: what)
        var result: [Entry] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while let entry = try reader.nextEntry() {
            var content: [UInt8] = []
            while true {
                let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                if count == 0 { break }
                content += buffer[0..<count]
            }
            result.append(Entry(name: entry.name, digest: Digest.sha256(of: content)))
        }
        try reader.finishDecompressing()
        return (result, reader)
    }

    func testInflatesLikeGzipWhateverTheReadSizes() throws {
        let tar = try makeTar(files: 6, name: "one")
        let compressed = try gzip(tar, name: "one.tar")
        let expected = try entries(MemorySource(tar)).entries
        XCTAssertEqual(expected.count, 7, "six files and the directory")
        for chunk in [1 << 20, 4096, 7, 1] {
            let (got, reader) = try entries(ChunkedSource(compressed, chunk: chunk))
            XCTAssertEqual(got, expected, "read in chunks of \(chunk)")
            XCTAssertEqual(reader.compression, "gzip")
            XCTAssertFalse(reader.isUncompressed)
            XCTAssertEqual(reader.bytesRead, Int64(compressed.count), "bytesRead counts compressed bytes (the expansion ratio)")
            // libarchive stops at the end marker, before the tar's zero padding.
            XCTAssertLessThanOrEqual(reader.uncompressedBytes, Int64(tar.count))
            XCTAssertGreaterThan(reader.uncompressedBytes, Int64(tar.count - 10240))
        }
    }

    func testMultiMemberStreamsAndTrailingBytes() throws {
        let tar = try makeTar(files: 4, name: "two")
        let expected = try entries(MemorySource(tar)).entries
        // Cut the tar mid-file: the second member continues the first one's data.
        let cut = tar.count / 2 + 123
        let members = try gzip(Array(tar[..<cut]), name: "a") + gzip(Array(tar[cut...]), name: "b")
        for chunk in [3, 65536] {
            XCTAssertEqual(try entries(ChunkedSource(members, chunk: chunk)).entries, expected, "two members, chunks of \(chunk)")
            // Bytes after the last member that do not start another one are ignored, as libarchive
            // and runtimes' tar readers do (the blob digest still covers them).
            XCTAssertEqual(try entries(ChunkedSource(members + Array("not gzip\n".utf8), chunk: chunk)).entries, expected)
            XCTAssertEqual(try entries(ChunkedSource(members + [0, 0], chunk: chunk)).entries, expected)
        }
    }

    /// Member headers with every optional field (extra, name, comment, header CRC), read in
    /// 1-byte chunks: each field straddles reads. Crafted with Python's zlib.
    func testEveryOptionalHeaderField() throws {
        let tar = try makeTar(files: 2, name: "five")
        let expected = try entries(MemorySource(tar)).entries
        let plain = directory.appendingPathComponent("five.tar")
        let crafted = directory.appendingPathComponent("five.tar.gz")
        try Data(tar).write(to: plain)
        let script = """
        import struct, sys, zlib
        data = open(sys.argv[1], "rb").read()
        body = zlib.compressobj(6, zlib.DEFLATED, -15)
        deflated = body.compress(data) + body.flush()
        header = bytes([0x1f, 0x8b, 8, 0x04 | 0x08 | 0x10 | 0x02]) + struct.pack("<I", 0) + bytes([0, 3])
        header += struct.pack("<H", 6) + b"RS\\x02\\x00hi" + b"layer.tar\\x00" + b"a comment\\x00"
        header += struct.pack("<H", zlib.crc32(header) & 0xffff)
        member = header + deflated + struct.pack("<II", zlib.crc32(data), len(data) & 0xffffffff)
        open(sys.argv[2], "wb").write(member)
        """
        let result = try Tools.run(["python3", "-c", script, plain.path, crafted.path])
        XCTAssertEqual(result.status, 0, result.output)
        let member = Array(try Data(contentsOf: crafted))
        XCTAssertEqual(member[3], 0x1e, "FEXTRA, FNAME, FCOMMENT and FHCRC set")
        for chunk in [1, 5, 1 << 20] {
            XCTAssertEqual(try entries(ChunkedSource(member, chunk: chunk)).entries, expected, "chunks of \(chunk)")
        }
        // A wrong header CRC is refused.
        var badHeaderCRC = member
        badHeaderCRC[38] ^= 0xff  // 10 + 2 + 6 + 10 + 10 bytes precede the header CRC
        XCTAssertThrowsError(try entries(MemorySource(badHeaderCRC))) { XCTAssertTrue("\($0)".contains("gzip"), "\($0)") }
    }

    func testDamagedStreamsFailNamingTheStream() throws {
        let tar = try makeTar(files: 3, name: "three")
        let compressed = try gzip(tar, name: "three.tar")
        var damaged: [(String, [UInt8])] = []
        // Cut anywhere: in the header, in the deflate data, in the 8-byte trailer.
        for cut in [5, 11, 100, compressed.count / 3, compressed.count / 2, compressed.count - 9, compressed.count - 5, compressed.count - 1] {
            damaged.append(("cut at \(cut)", Array(compressed[..<cut])))
        }
        var badCRC = compressed
        badCRC[compressed.count - 6] ^= 0x55
        damaged.append(("CRC-32 changed", badCRC))
        var badLength = compressed
        badLength[compressed.count - 3] ^= 0x01
        damaged.append(("length changed", badLength))
        var badData = compressed
        for offset in stride(from: 40, to: compressed.count - 20, by: 997) { badData[offset] ^= 0xff }
        damaged.append(("deflate data changed", badData))

        for (what, bytes) in damaged {
            for chunk in [13, 1 << 20] {
                XCTAssertThrowsError(try entries(ChunkedSource(bytes, chunk: chunk), what: "layer 4 (sha256:feed)"), what) { error in
                    XCTAssertTrue("\(error)".hasPrefix("layer 4 (sha256:feed)"), "\(what): \(error)")
                    XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)")
                }
            }
        }
    }

    func testOtherCompressionsStayWithLibarchive() throws {
        let tar = try makeTar(files: 2, name: "four")
        let expected = try entries(MemorySource(tar)).entries
        let file = directory.appendingPathComponent("four.tar")
        try Data(tar).write(to: file)
        XCTAssertEqual(try Tools.run(["zstd", "-q", "-f", file.path]).status, 0)
        let (got, reader) = try entries(MemorySource(Array(try Data(contentsOf: file.appendingPathExtension("zst")))))
        XCTAssertEqual(got, expected)
        XCTAssertEqual(reader.compression, "zstd")
        let plain = try entries(MemorySource(tar)).reader
        XCTAssertEqual(plain.compression, "none")
        XCTAssertTrue(plain.isUncompressed)
    }
}
