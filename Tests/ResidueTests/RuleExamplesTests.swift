import Foundation
import ResidueRules
import XCTest

/// Every rule in Rules/ carries examples that must match and counter-examples that must not.
final class RuleExamplesTests: XCTestCase {
    func testEveryBuiltInRuleHasExamplesAndCounterExamples() throws {
        let rules = try RuleLoader.defaultRules()
        XCTAssertFalse(rules.isEmpty)
        for rule in rules {
            XCTAssertGreaterThanOrEqual(rule.examples?.count ?? 0, 1, "\(rule.id) has no examples")
            XCTAssertGreaterThanOrEqual(rule.counterExamples?.count ?? 0, 1, "\(rule.id) has no counter-examples")
        }
    }

    func testEveryBuiltInRuleExampleBehaves() throws {
        let failures = RuleTester.run(try RuleSet.defaults())
        XCTAssertEqual(failures.map(\.description), [])
    }

    func testRuleIdsAreUniqueAndSeveritiesValid() throws {
        let rules = try RuleLoader.defaultRules()
        XCTAssertEqual(Set(rules.map(\.id)).count, rules.count)
    }

    /// The tester itself must be able to fail.
    func testTesterReportsABrokenRule() throws {
        let text = """
        [[rules]]
        id = "broken"
        title = "Broken"
        severity = "low"
        regex = '''(tok_[a-z]{4})'''
        keywords = ["tok_"]
        examples = ['''tok_ABCD''']
        counterExamples = ['''tok_abcd''']
        """
        let failures = RuleTester.run(try RuleSet(RuleLoader.parse(text, origin: "test")))
        XCTAssertEqual(failures.count, 2)
        XCTAssertEqual(failures.map(\.expectedMatch), [true, false])
    }

    func testBadRulesAreClearErrors() {
        let badRegex = """
        [[rules]]
        id = "bad-regex"
        title = "x"
        severity = "low"
        regex = '''(unclosed'''
        keywords = ["x"]
        """
        XCTAssertThrowsError(try RuleSet(RuleLoader.parse(badRegex, origin: "extra.toml"))) { error in
            XCTAssertTrue("\(error)".contains("bad-regex"), "\(error)")
        }
        XCTAssertThrowsError(try RuleLoader.parse("[[rules]]\nid = 3", origin: "extra.toml")) { error in
            XCTAssertTrue("\(error)".contains("extra.toml"), "\(error)")
        }
        let noKeywords = badRegex.replacingOccurrences(of: #"keywords = ["x"]"#, with: "keywords = []")
        XCTAssertThrowsError(try RuleLoader.parse(noKeywords, origin: "extra.toml"))
    }

    /// Found by fuzzing rule files: with this mutated file, Hyperscan's scan failed and the
    /// process stopped on a precondition. A failed keyword pass now means "every keyword may be
    /// present" (slower, never a missed secret), as the fuzz target runs it. The cause was a
    /// Hyperscan 5.4 bug with one long keyword (`ldap_default_authtok` and 113 `*`s): keywords
    /// are now searched by their first 32 bytes, so the pass runs (see
    /// DetectorTests.testLongKeywordsAreSearchedByTheirPrefix).
    func testKeywordPassFailureIsNotACrash() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "Fixtures/fuzz/rules-keyword-scan-failure.bin"))
        let text = String(decoding: bytes, as: UTF8.self)
        let set = try RuleSet(RuleLoader.parse(text, origin: "fuzz.toml"))
        _ = Matcher(set).scan(text: text, path: "/fuzz")
        _ = RuleTester.run(set)
    }

    /// Found by fuzzing the rule loader: `secretGroup = -1` crashed the first scan (a match
    /// group indexed out of range), and a negative or huge `keywordLead` would make an inverted
    /// or overflowing range. Each is an error naming the rule.
    func testOutOfRangeNumbersAreErrorsNotCrashes() {
        for (field, message) in [("secretGroup = -1", "secretGroup -1"), ("secretGroup = 2", "secretGroup 2"),
                                 ("keywordLead = -3", "keywordLead -3"), ("keywordLead = 9223372036854775807", "keywordLead 9223372036854775807")] {
            let text = "[[rules]]\nid = \"n\"\ntitle = \"t\"\nseverity = \"low\"\nregex = '''(tok_[a-z]{8})'''\nkeywords = [\"tok_\"]\n\(field)\n"
            XCTAssertThrowsError(try RuleSet(RuleLoader.parse(text, origin: "fuzz.toml")), field) { error in
                XCTAssertTrue("\(error)".contains("rule n") && "\(error)".contains(message), "\(error)")
            }
        }
    }

    /// Found by fuzzing the rule loader: a table name starting with a character that is neither
    /// bare nor a quote made toml++ abort (debug) or run into undefined behaviour (release).
    func testHostileTableNamesAreErrorsNotCrashes() {
        for text in ["[`rules]]\n", "[ `x]\n", "[€]\n", "[[`rules]]\nid = 1\n"] {
            XCTAssertThrowsError(try RuleLoader.parse(text, origin: "fuzz.toml"), text) { error in
                XCTAssertTrue("\(error)".contains("fuzz.toml: line 1"), "\(error)")
            }
        }
        // The same bytes inside a multi-line string are content, not a header.
        XCTAssertNoThrow(try TOMLGuard.check("a = '''\n[`not a header]\n'''\n", origin: "x"))
        // CRLF files: every line is checked (a Character-based split saw one line: "\r\n" is one Character).
        XCTAssertThrowsError(try TOMLGuard.check("a = 1\r\nb = 2\r\n[`x]\r\n", origin: "crlf.toml")) { error in
            XCTAssertTrue("\(error)".contains("crlf.toml: line 3: a table name cannot start with \"`\""), "\(error)")
        }
        XCTAssertThrowsError(try TOMLGuard.check("x = \"\"\"\n[ok]\n\"\"\"\n[€]\n", origin: "u.toml")) { error in
            XCTAssertTrue("\(error)".contains("line 4: a table name cannot start with \"€\""), "\(error)")
        }
    }

    /// Found by fuzzing the rule loader (this session, in a release build too): a `[` or `[[`
    /// with nothing after it on its line made toml++ assert — the table name would start with
    /// the line break. Each is an error naming the line; a nested array opening on a line of
    /// its own inside a value is not a header and still parses.
    func testHeaderWithoutANameOnItsLineIsAnErrorNotACrash() throws {
        for (text, line) in [("[\nabc]\n", 1), ("a = 1\n[[\nrules]]\n", 2), ("[ # comment\nabc]\n", 1), ("x = 2\r\n[ \r\n", 2),
                             ("[[rules]]\nid = 'a'\n [\n'''MAILGUN'''\n", 3)] {
            XCTAssertThrowsError(try RuleLoader.parse(text, origin: "fuzz.toml"), text.debugDescription) { error in
                XCTAssertTrue("\(error)".contains("fuzz.toml: line \(line): a table header must name its table on the same line"), "\(error)")
            }
        }
        // Inside values, brackets and quotes are content: none of these is a header.
        let values = """
        nested = [
          [
            1, 2
          ],
          ["[", "]"],
        ]
        quoted = "[not a header"
        literal = '[`x]'
        comment = 1 # [`x]
        text = \"\"\"
        [
        \"\"\"
        """
        XCTAssertNoThrow(try TOMLGuard.check(values, origin: "values.toml"))
        // The fuzzer's input itself: an error, not an abort.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "Fixtures/fuzz/rules-header-without-name.bin"))
        XCTAssertThrowsError(try RuleLoader.parse(String(decoding: bytes, as: UTF8.self), origin: "fuzz.toml"))
    }

    /// Found by fuzzing the rule loader (this session): a `}` where an array expects a value
    /// made toml++ assert. Each is an error naming the line; inline tables inside arrays, and
    /// braces inside strings and comments, still parse.
    func testBraceInsideAnArrayIsAnErrorNotACrash() throws {
        for (text, line) in [("x = [}]\n", 1), ("x = [1, }\n", 1), ("a = 1\nx = [\n}\n]\n", 3), ("a = {b = [}]}\n", 1)] {
            XCTAssertThrowsError(try RuleLoader.parse(text, origin: "fuzz.toml"), text.debugDescription) { error in
                XCTAssertTrue("\(error)".contains("fuzz.toml: line \(line): a \"}\" inside an array closes nothing"), "\(error)")
            }
        }
        let values = """
        tables = [{ a = 1 }, { b = [2, 3] }]
        more = [
          { c = "}" },   # a } in a comment
          '}',
        ]
        """
        XCTAssertNoThrow(try TOMLGuard.check(values, origin: "values.toml"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "Fixtures/fuzz/rules-brace-in-array.bin"))
        XCTAssertThrowsError(try RuleLoader.parse(String(decoding: bytes, as: UTF8.self), origin: "fuzz.toml"))
    }

    func testSpecificRuleWinsOverGeneric() throws {
        let text = """
        [[rules]]
        id = "specific"
        title = "s"
        severity = "high"
        regex = '''(tok_[a-z0-9]{8})'''
        keywords = ["tok_"]

        [[rules]]
        id = "generic"
        title = "g"
        severity = "low"
        generic = true
        regex = '''token\\s*=\\s*(\\S+)'''
        keywords = ["token"]
        """
        let set = try RuleSet(RuleLoader.parse(text, origin: "test"))
        let matches = Matcher(set).scan(text: "token = tok_a1b2c3d4")
        XCTAssertEqual(matches.map { set.rules[$0.ruleIndex].rule.id }, ["specific"])
        XCTAssertEqual(matches.first?.secret, "tok_a1b2c3d4")
    }
}
