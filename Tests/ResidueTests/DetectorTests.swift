import ResidueArchive
@testable import ResidueRules
@testable import ResidueScan
import XCTest

/// The fast paths of the detector must give the answers of the slow ones: the Hyperscan keyword
/// pass those of a naive search, the keyword-window and anchored regex runs those of a search
/// over the whole buffer.
final class DetectorTests: XCTestCase {
    /// Every end offset of every keyword, by brute force (ASCII case folded).
    func naiveHits(_ keywords: [String], _ text: [UInt8]) -> [(Int, Int)] {
        let lowered = text.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
        var result: [(Int, Int)] = []
        for end in 0..<lowered.count {
            for (id, keyword) in keywords.enumerated() {
                let bytes = Array(keyword.utf8)
                if end + 1 >= bytes.count, Array(lowered[(end + 1 - bytes.count)...end]) == bytes { result.append((end, id)) }
            }
        }
        return result
    }

    func automatonHits(_ automaton: KeywordScanner, _ text: [UInt8]) -> [(Int, Int)] {
        let hits = KeywordHits()
        text.withUnsafeBytes { automaton.scan($0, into: hits) }
        XCTAssertFalse(hits.overflowed)
        var result: [(Int, Int)] = []
        hits.forEach { end, state in
            for id in automaton.keywordsIfAccepting(state)!.sorted() { result.append((end, Int(id))) }
        }
        return result
    }

    func testFindsEveryHitOnceInALargeBuffer() {
        let keywords = ["password", "pass", "://", "ghp_", "-----begin"]
        let automaton = KeywordScanner(keywords: keywords)
        // A 70 KB buffer with keywords planted everywhere, including around each quarter.
        var generator = SystemRandomNumberGenerator()
        var text = (0..<70_000).map { _ in UInt8.random(in: 32...126, using: &generator) }
        let plants = ["PassWord", "://", "GHP_", "-----BEGIN", "pass"]
        for quarter in 1...3 {
            let boundary = text.count * quarter / 4
            for (offset, plant) in plants.enumerated() {
                let at = boundary - 3 + offset * 11
                text.replaceSubrange(at..<(at + plant.utf8.count), with: Array(plant.utf8))
            }
        }
        let expected = naiveHits(keywords, text).sorted { $0 < $1 }
        let got = automatonHits(automaton, text).sorted { $0 < $1 }
        XCTAssertEqual(got.map(\.0), expected.map(\.0))
        XCTAssertEqual(got.map(\.1), expected.map(\.1))
    }

    /// Hyperscan 5.4 builds a database that fails at scan time for some long literals (a run of
    /// one byte at the end, 38 bytes and more) once the literal occurs; found by fuzzing rule
    /// files. Keywords are searched by their first 32 bytes: the pass must run (no overflow, i.e.
    /// no fallback) and report each keyword where its prefix ends; a rule with such a keyword, and
    /// the masking of such a secret, must work as for short ones.
    func testLongKeywordsAreSearchedByTheirPrefix() throws {
        let long = "ldap_default_authtok" + String(repeating: "*", count: 60)
        let keywords = [long, "okta", String(repeating: "A", count: 90)]
        let automaton = KeywordScanner(keywords: keywords)
        let text = Array(("x " + long + " okta " + String(repeating: "a", count: 100) + " end").utf8)
        let prefixes = keywords.map { String(decoding: $0.utf8.prefix(KeywordScanner.longestLiteral), as: UTF8.self).lowercased() }
        let expected = naiveHits(prefixes, text).sorted { $0 < $1 }
        XCTAssertEqual(automatonHits(automaton, text).map(\.0), expected.map(\.0))
        XCTAssertEqual(Set(expected.map(\.1)), [0, 1, 2])

        let rules = try RuleLoader.parse("""
        [[rules]]
        id = "long-keyword"
        title = "t"
        severity = "high"
        regex = '''ldap_default_authtok\\*{60}=([a-z0-9]{12})'''
        secretGroup = 1
        keywords = ["\(long)"]
        examples = ["\(long)=q7x2v9wp5rdj"]
        counterExamples = ["\(long)=short"]
        """, origin: "long.toml")
        let set = try RuleSet(rules)
        XCTAssertEqual(Matcher(set).scan(text: "a: \(long)=q7x2v9wp5rdj\n").map(\.secret), ["q7x2v9wp5rdj"])
        XCTAssertEqual(RuleTester.run(set).map(\.description), [])

        let secret = "-----BEGIN KEY-----" + String(repeating: "A", count: 64)
        let scrub = SecretsToScrub([(secret: secret, revealPrefix: false), (secret: "q7x2v9wp5rdjq7x2", revealPrefix: false)])
        XCTAssertEqual(scrub.candidates(in: "RUN echo \(secret) > /k").map(\.secret), [secret], "only the secret present, not a fallback to all")
    }

    /// A rule limited by paths keeps its keywords out of the shared pass (the `.pgpass` rule's
    /// ":" would be a hit at every colon), yet still finds its secret where its paths allow and
    /// one of its keywords occurs, and nowhere else.
    func testPathScopedRulesSearchWholeAllowedFilesOnly() throws {
        let rules = try RuleSet.defaults()
        let pgpass = try XCTUnwrap(rules.rules.firstIndex { $0.rule.id == "pgpass-password" })
        XCTAssertTrue(rules.pathScoped.contains(pgpass))
        XCTAssertNotNil(rules.pathPatterns, "every default path pattern compiles in Hyperscan (the fast path)")
        XCTAssertFalse(rules.text.rulesForState.contains { $0.contains(Int32(pgpass)) })
        let matcher = Matcher(rules)
        let line = "db.internal:5432:orders:orders_app:Zt4pQ8vM2kLx7\n"
        XCTAssertEqual(matcher.scan(text: line, path: "root/.pgpass").map(\.secret), ["Zt4pQ8vM2kLx7"])
        XCTAssertTrue(matcher.scan(text: line, path: "root/notes.txt").isEmpty)
        // Same path twice (the remembered path), then a buffer without the keyword.
        XCTAssertEqual(matcher.scan(text: line, path: "root/.pgpass").count, 1)
        XCTAssertTrue(matcher.scan(text: "no colon here\n", path: "root/.pgpass").isEmpty)
    }

    func testSmallBuffersAndNoKeywords() {
        let automaton = KeywordScanner(keywords: ["abc"])
        XCTAssertEqual(automatonHits(automaton, Array("xxABCabc".utf8)).map(\.0), [4, 7])
        XCTAssertTrue(automatonHits(automaton, []).isEmpty)
        XCTAssertTrue(automatonHits(KeywordScanner(keywords: []), Array("abc".utf8)).isEmpty)
    }

    func testRegexLengths() {
        XCTAssertEqual(RegexLength.maxLength("(ghp_[A-Za-z0-9]{36})"), 40)
        XCTAssertEqual(RegexLength.maxLength("(?<![A-Z])a(?:bc|d)?e{2,5}"), 8)
        XCTAssertEqual(RegexLength.maxLength("x\\s+y"), nil)
        XCTAssertEqual(RegexLength.maxLength("[]a]{3}(?=zzzz)"), 3)
        XCTAssertEqual(RegexLength.maxLength("(?i)a{2,}"), nil)
        XCTAssertEqual(RegexLength.maxLength("(a)\\1"), nil)
        XCTAssertEqual(RegexLength.maxLength("a{,3}"), 5) // a literal brace in PCRE2 10.42
    }

    /// A wrong `keywordLead` (the match starts earlier than it says) fails the rule tests.
    func testWrongKeywordLeadIsCaught() throws {
        let text = """
        [[rules]]
        id = "lead"
        title = "Lead"
        severity = "low"
        regex = '''(abc_tok[0-9]{4})'''
        keywords = ["tok"]
        keywordLead = 0
        examples = ['''abc_tok1234''']
        counterExamples = ['''abc_tok12''']
        """
        let failures = RuleTester.run(try RuleSet(RuleLoader.parse(text, origin: "test")))
        XCTAssertEqual(failures.count, 1)
        XCTAssertEqual(failures.first?.note, "not found the same way around its keywords")
        let fixed = text.replacingOccurrences(of: "keywordLead = 0", with: "keywordLead = 4")
        XCTAssertEqual(RuleTester.run(try RuleSet(RuleLoader.parse(fixed, origin: "test"))).count, 0)
    }

    /// A rule whose keyword is a name beside the token, not part of it, says
    /// `keywordScope = "buffer"`; a rule without examples (gitleaks, inline) is run that way too.
    func testKeywordsOutsideTheMatch() throws {
        func rule(_ extra: String, examples: Bool = true) -> String {
            """
            [[rules]]
            id = "near"
            title = "Near"
            severity = "low"
            regex = '''(?<![A-Z0-9])(Q[A-Z0-9]{16})(?![A-Z0-9])'''
            keywords = ["acme"]
            \(extra)
            \(examples ? "examples = ['''QABCDEFGH12345678  # acme token''']" : "")
            counterExamples = ['''QABC  # acme''']
            """
        }
        let windowed = try RuleSet(RuleLoader.parse(rule(""), origin: "test"))
        XCTAssertEqual(RuleTester.run(windowed).map(\.note), ["not found the same way around its keywords"])
        let far = "ACME_CONFIG=1\n" + String(repeating: "filler text\n", count: 2000) + "key = QABCDEFGH12345678\n"
        for (extra, examples) in [("keywordScope = \"buffer\"", true), ("", false)] {
            let set = try RuleSet(RuleLoader.parse(rule(extra, examples: examples), origin: "test"))
            XCTAssertEqual(RuleTester.run(set).count, 0, extra)
            XCTAssertEqual(Matcher(set).scan(text: far).map(\.secret), ["QABCDEFGH12345678"], extra)
            XCTAssertEqual(Matcher(set).scan(text: far.replacingOccurrences(of: "ACME", with: "OTHER")).count, 0, extra)
        }
        XCTAssertEqual(Matcher(windowed).scan(text: far).count, 0, "windowed: the keyword is too far")
        XCTAssertThrowsError(try RuleLoader.parse(rule("keywordScope = \"buffer\"\nkeywordLead = 0"), origin: "test"))
    }

    /// A keyword-less rule (limited by paths) runs on whole buffers of the files it allows, and
    /// allowlists apply on the fast path too.
    func testKeywordlessRulesAndAllowlistsOnTheFastPath() throws {
        let ruleSet = try RuleSet.defaults()
        let matcher = Matcher(ruleSet)
        let masterKey = "3f9a7c21d4e8b6059a1c7e3d2b8f4a60\n"
        func ids(_ text: String, _ path: String) -> [String] {
            matcher.scan(text: text, path: path).map { ruleSet.rules[$0.ruleIndex].rule.id }
        }
        XCTAssertEqual(ids(masterKey, "/app/config/master.key"), ["rails-master-key"])
        XCTAssertEqual(ids(masterKey, "/app/config/other.key"), [])
        let text = """
        [[rules]]
        id = "acme"
        title = "Acme"
        severity = "low"
        regex = '''(acme_[a-z0-9]{12})'''
        keywords = ["acme_"]
        examples = ['''acme_q7x2v9wp5rdj''']
        counterExamples = ['''acme_short''']
        [[rules.allowlists]]
        stopwords = ["dead"]
        [[rules.allowlists]]
        paths = ['''(^|/)docs/''']
        """
        let acme = Matcher(try RuleSet(RuleLoader.parse(text, origin: "test")))
        let body = String(repeating: "lorem ipsum\n", count: 500) + "a = acme_q7x2v9wp5rdj b = acme_dead00000000\n"
        XCTAssertEqual(acme.scan(text: body, path: "/app/x.env").map(\.secret), ["acme_q7x2v9wp5rdj"])
        XCTAssertEqual(acme.scan(text: body, path: "/app/docs/x.env").count, 0)
    }

    /// Rules tried once per keyword hit (keywordLead) cut the subject a reach after the hit;
    /// rule tests run on short examples, where there is nothing to cut. Here every example and
    /// counter-example of those rules sits inside 8 KB of text on each side (with `@` and
    /// `://` far away), and the hit-by-hit search must still equal a whole-buffer search.
    func testAnchoredRulesAgreeWithWholeBufferSearchInsideLongText() throws {
        let ruleSet = try RuleSet.defaults()
        let matcher = Matcher(ruleSet)
        let filler = String(repeating: "plain words, no secrets here; mail admin@host later\n", count: 160)
        var checked = 0
        for (index, compiled) in ruleSet.rules.enumerated() where compiled.anchored != nil {
            for example in (compiled.rule.examples ?? []) + (compiled.rule.counterExamples ?? []) {
                var bytes = Array((filler + example + "\n" + filler + "see https://mirror.acme-corp.io/x\n" + filler).utf8)
                let (near, whole) = bytes.withUnsafeMutableBytes { raw in
                    (matcher.runAroundKeywords(ruleAt: index, on: UnsafeRawBufferPointer(raw)),
                     matcher.run(ruleAt: index, on: UnsafeRawBufferPointer(raw)))
                }
                XCTAssertEqual(near.map(\.secret), whole.map(\.secret), "\(compiled.rule.id): \(example.prefix(60))")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 200, "the anchored rules and their examples")
    }

    /// Over real-looking text with many keyword hits, the scan finds what whole-buffer runs find.
    func testScanEqualsWholeBufferSearch() throws {
        let ruleSet = try RuleSet.defaults()
        let matcher = Matcher(ruleSet)
        var text = ""
        for index in 0..<3000 {
            switch index % 7 {
            case 0: text += "password = \"Zq\(index)xT9vLw3RkPa2\"\n"
            case 1: text += "see https://user\(index):hunter2x@git.acme-corp.io/path and http://example.com\n"
            case 2: text += "token: ghp_\(String(repeating: "a1B2", count: 9))\n"
            case 3: text += "// the token is read from the environment, not the secret file\n"
            case 4: text += "AKIA\(String(repeating: "Q", count: 16)) aws_secret_access_key=\(String(repeating: "k9/+", count: 10))\n"
            case 5: text += String(repeating: "lorem ipsum ", count: 20) + "\n"
            default: text += "api_key: \(index)-sk_live_\(String(repeating: "x7Y", count: 10))\n"
            }
        }
        var bytes = Array(text.utf8)
        let fast = bytes.withUnsafeMutableBytes { matcher.scan(UnsafeRawBufferPointer($0), path: "/app/config.yaml") }
        var slow: [RuleMatch] = []
        for (index, compiled) in ruleSet.rules.enumerated() where compiled.pathFilters.isEmpty {
            slow += bytes.withUnsafeMutableBytes { matcher.run(ruleAt: index, on: UnsafeRawBufferPointer($0)) }
        }
        slow = Matcher.preferSpecific(slow, rules: ruleSet.rules)
        func key(_ match: RuleMatch) -> String { "\(match.ruleIndex):\(match.secretRange.lowerBound):\(match.secret)" }
        XCTAssertGreaterThan(fast.count, 500)
        XCTAssertEqual(fast.map(key).sorted(), slow.map(key).sorted())
    }
}

final class PathTextTests: XCTestCase {
    func testFastPathAgreesWithTheFullNormalisation() {
        let names = ["usr/bin/x", "./usr/bin/x", "/usr/bin/x", "usr//bin", "usr/./bin", "usr/../etc/passwd", "./", ".", "",
                     "a/b/", "../x", "a/.hidden", "a/..b", "a/b..", "a/...", "./.wh..wh..opq", "x/.wh.y", "/", "//a"]
        for name in names {
            var parts: [Substring] = []
            for part in name.split(separator: "/", omittingEmptySubsequences: true) {
                if part == "." { continue }
                if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
                parts.append(part)
            }
            XCTAssertEqual(normalizePath(name), "/" + parts.joined(separator: "/"), name)
        }
        XCTAssertEqual(PathText.split("/a/b/c").directory, "/a/b")
        XCTAssertEqual(PathText.split("/a/b/c").name, "c")
        XCTAssertEqual(PathText.split("/c").directory, "/")
        XCTAssertEqual(FileScanner.decompressedName("/usr/share/man/man1/ls.1.GZ"), "ls.1")
        XCTAssertEqual(FileScanner.decompressedName("/a/b.tar.zst"), "b.tar")
        XCTAssertEqual(FileScanner.decompressedName("/a/b.txt"), "b.txt")
    }
}

/// Tokens baked into compiled programs: a Go binary keeps its string constants back to back,
/// so a token set with `-ldflags -X` touches the strings around it.
final class BinaryTokenTests: XCTestCase {
    /// A GitHub token whose CRC32 checksum verifies (ghp_ + 30 base62 + 6 base62 check digits).
    static func githubToken(_ payload: String) -> String {
        let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var value = Int(Checksums.crc32(Array(payload.utf8)))
        var check = ""
        for _ in 0..<6 { check = String(digits[value % 62]) + check; value /= 62 }
        return "ghp_" + payload + check
    }

    func testTokenInAGoStringTableIsFoundWhenItsChecksumVerifies() throws {
        let matcher = Matcher(try RuleSet.defaults())
        let token = Self.githubToken("Q8mXz2Lr5Tn7Vb1Kc4Wd9Yf3Hg6Js0")
        XCTAssertEqual(Checksums.base62CRC32(token), .valid)
        // The same 36 characters with a wrong check: a run of letters, not a token.
        let forged = "ghp_Q8mXz2Lr5Tn7Vb1Kc4Wd9Yf3Hg6Js0Zzzzzz"
        func binary(_ middle: String) -> [UInt8] {
            [0x7F, 0x45, 0x4C, 0x46, 0, 0, 0, 1] + Array("runtime.goparkunlockmain.buildVersion\(middle)invalid memory address or nil pointer dereference".utf8) + [0, 0, 0xFF]
        }
        var bytes = binary(token)
        let found = bytes.withUnsafeMutableBytes { matcher.scan(UnsafeRawBufferPointer($0), path: "/usr/local/bin/app", binary: true) }
        XCTAssertEqual(found.map(\.secret), [token])
        bytes = binary(forged)
        XCTAssertTrue(bytes.withUnsafeMutableBytes { matcher.scan(UnsafeRawBufferPointer($0), path: "/usr/local/bin/app", binary: true) }.isEmpty)
        // In text, the boundaries still hold: a token glued to letters is not reported there.
        XCTAssertTrue(matcher.scan(text: "buildVersion\(token)invalid", path: "/app/notes.txt").isEmpty)
        // A bounded token in a binary is found once, not twice.
        bytes = [0, 1, 2] + Array(token.utf8) + [0]
        XCTAssertEqual(bytes.withUnsafeMutableBytes { matcher.scan(UnsafeRawBufferPointer($0), path: "/bin/x", binary: true) }.count, 1)
    }

    /// The real thing: Debian's Go compiler folds `"Authorization: token " + apiToken` into one
    /// constant and lays the next string right after it; the token is found in the binary.
    func testConstantTokenInARealGoBinary() throws {
        let folder = TemporaryFolder("residue-go")
        let token = Self.githubToken("R7kVx2Qm9Lp4Tz8Wn3Yc6Hb1Jd5Fg0")
        try """
        package main

        import ("fmt"; "os")

        const apiToken = "\(token)"

        func main() { if len(os.Args) > 5 { fmt.Println("Authorization: token " + apiToken) }; fmt.Println("ok", os.Getenv("HOMEDIR")) }

        """.write(toFile: folder.file("main.go"), atomically: false, encoding: .utf8)
        try "module example.org/app\n\ngo 1.19\n".write(toFile: folder.file("go.mod"), atomically: false, encoding: .utf8)
        let build = try Tools.run(["sh", "-c", "cd '\(folder.path)' && go build -o app ."],
                                  environment: ["CGO_ENABLED": "0", "GOCACHE": folder.file("gocache"), "GOPATH": folder.file("gopath"),
                                                "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"], timeout: 300)
        XCTAssertEqual(build.status, 0, build.output)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder.file("app"))))
        let at = try XCTUnwrap(bytes.firstRange(of: Array(token.utf8)), "the token is in the binary")
        func isWordByte(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "_") || (byte < 128 && Character(UnicodeScalar(byte)).isLetter) || (48...57).contains(byte) }
        XCTAssertTrue(isWordByte(bytes[at.upperBound]), "this test needs the token to touch the next string, as Go lays it out")
        let scanner = FileScanner(matcher: Matcher(try RuleSet.defaults()), limits: ScanLimits())
        var hits: [FileHit] = []
        try scanner.scan(MemorySource(bytes), path: "/usr/local/bin/app", depth: 0, layerDigest: "d", hits: &hits)
        XCTAssertEqual(hits.map(\.secret), [token])
    }

    func testBoundariesAreStrippedOnlyInTheTokenForm() {
        XCTAssertEqual(CompiledRule.withoutBoundaries("(?<![A-Za-z0-9_])(ghp_[A-Za-z0-9]{36})(?![A-Za-z0-9_])"), "(ghp_[A-Za-z0-9]{36})")
        XCTAssertEqual(CompiledRule.withoutBoundaries("(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])"), "(npm_[A-Za-z0-9]{36})")
        XCTAssertNil(CompiledRule.withoutBoundaries("(ghp_[A-Za-z0-9]{36})"))
        XCTAssertNil(CompiledRule.withoutBoundaries("a(?!(b|c))"))
    }
}
