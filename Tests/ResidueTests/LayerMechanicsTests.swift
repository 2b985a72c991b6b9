import Foundation
@testable import ResidueArchive
@testable import ResidueImage
@testable import ResidueRules
@testable import ResidueScan
import XCTest

final class StatusResolverTests: XCTestCase {
    func changes(written: [String] = [], whiteouts: [String] = [], opaque: [String] = []) -> LayerChanges {
        LayerChanges(written: PathSet(written), whiteouts: PathSet(whiteouts), opaqueDirectories: PathSet(opaque))
    }

    func testStatuses() {
        let resolver = StatusResolver(layers: [
            changes(written: ["/root/.npmrc", "/srv/conf/.env", "/app/settings.env", "/etc/keep"]),
            changes(whiteouts: ["/root/.npmrc"]),
            changes(written: ["/app/settings.env"]),
            changes(written: ["/srv/conf/ready"], opaque: ["/srv/conf"]),
        ])
        XCTAssertEqual(resolver.status(of: "/root/.npmrc", inLayer: 0), .deleted)
        XCTAssertEqual(resolver.status(of: "/app/settings.env", inLayer: 0), .overwritten)
        XCTAssertEqual(resolver.status(of: "/app/settings.env", inLayer: 2), .present)
        XCTAssertEqual(resolver.status(of: "/srv/conf/.env", inLayer: 0), .deleted)
        XCTAssertEqual(resolver.status(of: "/etc/keep", inLayer: 0), .present)
    }

    func testDeletingAParentDirectoryDeletesTheFile() {
        let resolver = StatusResolver(layers: [changes(written: ["/a/b/c"]), changes(whiteouts: ["/a"])])
        XCTAssertEqual(resolver.status(of: "/a/b/c", inLayer: 0), .deleted)
    }

    /// "café" precomposed (NFC) and decomposed (NFD) are two files in a tar, though Swift's
    /// String calls them equal: deleting or overwriting one says nothing about the other,
    /// whether the later layer was just walked or read back from the cache (packed bytes).
    func testUnicodeSpellingsOfANameAreDifferentFiles() {
        let composed = "/app/caf\u{E9}.env", decomposed = "/app/cafe\u{301}.env"
        XCTAssertEqual(composed, decomposed, "Swift's own String equality")
        for packed in [false, true] {
            func layer(_ changes: LayerChanges) -> LayerChanges {
                guard packed else { return changes }
                return LayerChanges(written: PathSet(packed: changes.written.packedBytes),
                                    whiteouts: PathSet(packed: changes.whiteouts.packedBytes),
                                    opaqueDirectories: PathSet(packed: changes.opaqueDirectories.packedBytes))
            }
            let resolver = StatusResolver(layers: [
                changes(written: [composed, decomposed, "/d\u{E9}j\u{E0}/k"]),
                layer(changes(whiteouts: [composed], opaque: ["/de\u{301}ja\u{300}"])),
                layer(changes(written: [decomposed])),
            ])
            XCTAssertEqual(resolver.status(of: composed, inLayer: 0), .deleted, "packed: \(packed)")
            XCTAssertEqual(resolver.status(of: decomposed, inLayer: 0), .overwritten, "packed: \(packed)")
            XCTAssertEqual(resolver.status(of: "/d\u{E9}j\u{E0}/k", inLayer: 0), .present, "packed: \(packed)")
        }
        XCTAssertEqual(PathSet([composed, decomposed]).count, 2)
    }

    func testFirstLaterChangeDecides() {
        // Deleted, then written again: the next layer removed it first.
        let resolver = StatusResolver(layers: [changes(written: ["/x"]), changes(whiteouts: ["/x"]), changes(written: ["/x"])])
        XCTAssertEqual(resolver.status(of: "/x", inLayer: 0), .deleted)
    }

    func testPathNormalisation() {
        XCTAssertEqual(normalizePath("./a//b/../c"), "/a/c")
        XCTAssertEqual(normalizePath("../../etc/passwd"), "/etc/passwd")
        XCTAssertEqual(normalizePath("/"), "/")
    }
}

final class FileScannerTests: XCTestCase {
    func ruleSet() throws -> RuleSet {
        try RuleSet(RuleLoader.parse("""
        [[rules]]
        id = "tok"
        title = "t"
        severity = "high"
        regex = '''(tok_[a-z0-9]{16})'''
        keywords = ["tok_"]
        """, origin: "test"))
    }

    /// The 64-bytes-at-a-time newline count agrees with a byte loop at every length and cut.
    func testNewlineCountMatchesAByteLoop() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 63, 64, 65, 127, 128, 1000, 4099] {
            let bytes = (0..<length).map { _ in [UInt8(0x0A), 0x41, 0x0D, 0x00, 0xFF].randomElement(using: &generator)! }
            for end in [0, length / 3, length, length + 10] {
                let expected = bytes.prefix(end).filter { $0 == 0x0A }.count
                XCTAssertEqual(bytes.withUnsafeBytes { FileScanner.countNewlines($0, upTo: end) }, expected, "\(length) \(end)")
            }
        }
    }

    /// A secret across a window boundary is found once, with its right line number.
    func testSecretAcrossWindowBoundaryFoundOnce() throws {
        var limits = ScanLimits()
        limits.windowSize = 1024
        limits.windowOverlap = 128
        let scanner = FileScanner(matcher: Matcher(try ruleSet()), limits: limits)
        var text = String(repeating: "filler line\n", count: 84) // 1008 bytes, 84 lines
        text += "tok_abcdefgh12345678\n"                           // straddles byte 1024, line 85
        text += String(repeating: "more\n", count: 500)
        text += "tok_zzzzzzzz99999999\n"                           // line 586
        var hits: [FileHit] = []
        try scanner.scan(MemorySource(Array(text.utf8)), path: "/big.txt", depth: 0, layerDigest: "d", hits: &hits)
        XCTAssertEqual(hits.map(\.secret), ["tok_abcdefgh12345678", "tok_zzzzzzzz99999999"])
        XCTAssertEqual(hits.map(\.line), [85, 586])
    }

    /// A rule whose regex backtracks exponentially on a run of "a" not followed by the end.
    func backtrackingRule(counterExamples: [String] = []) throws -> RuleSet {
        let counters = counterExamples.map { "'''\($0)'''" }.joined(separator: ", ")
        return try RuleSet(RuleLoader.parse("""
        [[rules]]
        id = "backtracker"
        title = "t"
        severity = "low"
        regex = '''((?:a|aa)+)+\\z'''
        keywords = ["aaaa"]
        keywordScope = "buffer"
        counterExamples = [\(counters)]
        """, origin: "test"))
    }

    /// `rules test` says when a rule's own example or counter-example makes it backtrack past
    /// PCRE2's limits (found by fuzzing rule files: a counter-example "passed" that way).
    func testRuleTestReportsBacktrackingLimit() throws {
        let set = try backtrackingRule(counterExamples: [String(repeating: "a", count: 60) + "c", "no such text"])
        let failures = RuleTester.run(set)
        XCTAssertEqual(failures.count, 1, "\(failures)")
        XCTAssertEqual(failures.first?.expectedMatch, false)
        XCTAssertTrue(failures.first?.description.contains("backtracking limit") ?? false, "\(failures)")
    }

    /// A pattern that backtracks past PCRE2's limits cannot silently miss: the file is reported.
    func testRegexLimitIsReportedNotSilent() throws {
        let set = try backtrackingRule()
        let scanner = FileScanner(matcher: Matcher(set), limits: ScanLimits())
        var hits: [FileHit] = []
        try scanner.scan(MemorySource(Array((String(repeating: "a", count: 60) + "c\n").utf8)), path: "/x.txt", depth: 0,
                         layerDigest: "d", hits: &hits)
        XCTAssertEqual(hits.count, 0)
        XCTAssertEqual(scanner.skipped.count, 1)
        XCTAssertTrue(scanner.skipped.first?.reason.contains("backtracking limit") ?? false, "\(scanner.skipped)")
        // An ordinary file reports nothing.
        let clean = FileScanner(matcher: Matcher(set), limits: ScanLimits())
        try clean.scan(MemorySource(Array("aaaab\n".utf8)), path: "/y.txt", depth: 0, layerDigest: "d", hits: &hits)
        XCTAssertEqual(clean.skipped.count, 0)
    }

    func testBinaryFilesOnlyRunBinaryRules() throws {
        let scanner = FileScanner(matcher: Matcher(try ruleSet()), limits: ScanLimits())
        var hits: [FileHit] = []
        let bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0, 0] + Array("tok_abcdefgh12345678".utf8)
        try scanner.scan(MemorySource(bytes), path: "/bin/app", depth: 0, layerDigest: "d", hits: &hits)
        XCTAssertEqual(hits.count, 0)
    }
}

final class TarIndexTests: XCTestCase {
    /// Long names (pax/GNU headers) move entry data: the index must find the exact offsets.
    func testOffsetsWithLongNamesMatchContent() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residue-tar-\(UUID().uuidString)")
        let longDirectory = directory.appendingPathComponent("src/" + String(repeating: "d", count: 120))
        try FileManager.default.createDirectory(at: longDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("short file\n".utf8).write(to: directory.appendingPathComponent("src/a.txt"))
        try Data(String(repeating: "x", count: 1000).utf8).write(to: longDirectory.appendingPathComponent("long.txt"))
        for format in ["pax", "gnu"] {
            let tarPath = directory.appendingPathComponent("\(format).tar").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
            process.arguments = ["--format=\(format)", "-C", directory.appendingPathComponent("src").path, "-cf", tarPath, "."]
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
            let store = try TarStore(path: tarPath)
            XCTAssertFalse(store.isCompressed)
            let short = try store.open("a.txt").readAll(limit: 1 << 20, what: "t")
            XCTAssertEqual(String(decoding: short, as: UTF8.self), "short file\n", format)
            let long = try store.open(String(repeating: "d", count: 120) + "/long.txt").readAll(limit: 1 << 20, what: "t")
            XCTAssertEqual(long.count, 1000, format)
            XCTAssertTrue(long.allSatisfy { $0 == UInt8(ascii: "x") }, format)
        }
    }

    func testDigestParsingRejectsHostileValues() {
        XCTAssertNil(Digest("sha256:../../etc/passwd"))
        XCTAssertNil(Digest("sha256:ABCDEF"))
        XCTAssertNil(Digest("md5:d41d8cd98f00b204e9800998ecf8427e"))
        XCTAssertNotNil(Digest("sha256:" + String(repeating: "a", count: 64)))
    }

    func testVerifyingSourceDetectsMismatch() throws {
        let bytes = Array("hello".utf8)
        let good = VerifyingSource(MemorySource(bytes), expected: Digest.sha256(of: bytes), size: 5, what: "blob")
        XCTAssertEqual(try good.readAll(limit: 100, what: "blob"), bytes)
        let bad = VerifyingSource(MemorySource(bytes), expected: Digest.sha256(of: "other"), size: 5, what: "blob")
        XCTAssertThrowsError(try bad.readAll(limit: 100, what: "blob")) { error in
            XCTAssertTrue("\(error)".contains("digest mismatch"), "\(error)")
        }
        let short = VerifyingSource(MemorySource(bytes), expected: Digest.sha256(of: bytes), size: 9, what: "blob")
        XCTAssertThrowsError(try short.readAll(limit: 100, what: "blob"))
    }
}

/// The written-paths set as the cache stores it: packed, sorted by bytes, searched in place.
final class PathSetTests: XCTestCase {
    func testPackedPathsAnswerLikeTheSet() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab/._-Zé€😀") // ASCII, 2-, 3- and 4-byte UTF-8, NFC and not
        var paths = Set<String>()
        while paths.count < 2000 {
            paths.insert("/" + String((0..<Int.random(in: 1...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        paths.insert("/e\u{301}")   // decomposed é (a Set<String> keeps one of it and "/é": canonically equal)
        paths.insert("/é")
        let packed = PathSet(packed: PathSet(paths).packedBytes)
        XCTAssertEqual(packed.count, paths.count)
        for path in paths { XCTAssertTrue(packed.contains(path), path) }
        for probe in ["/", "/zz", "/a/b/c/d/e/f/g/h/i/j", "", "/€€€€€€€€€€€€€"] where !paths.contains(probe) {
            XCTAssertFalse(packed.contains(probe), probe)
        }
        // Packing again gives the same bytes; empty and single sets round-trip.
        XCTAssertEqual(PathSet(packed: packed.packedBytes).packedBytes, packed.packedBytes)
        XCTAssertFalse(PathSet(packed: []).contains("/x"))
        XCTAssertTrue(PathSet(packed: PathSet(["/only"]).packedBytes).contains("/only"))
    }
}
