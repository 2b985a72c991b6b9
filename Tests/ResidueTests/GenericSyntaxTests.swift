@testable import ResidueRules
import XCTest

/// The generic assignment rule judged by the syntax of the file it is in (AssignmentSyntax,
/// TextKind): the same line is a finding in a config file and not in source code or prose.
final class GenericSyntaxTests: XCTestCase {
    let rules = try! RuleSet.defaults()

    func genericFindings(_ text: String, path: String?) -> [String] {
        let matcher = Matcher(rules)
        return matcher.scan(text: text, path: path)
            .filter { rules.rules[$0.ruleIndex].rule.id == "generic-secret-assignment" }
            .map(\.secret)
    }

    func testKindsFromNames() {
        XCTAssertEqual(TextKind.of(path: "/src/app/main.go"), .code)
        XCTAssertEqual(TextKind.of(path: "/app/node_modules/x/dist/index.min.js"), .code)
        XCTAssertEqual(TextKind.of(path: "/app.jar!/com/acme/Config.java"), .code)
        XCTAssertEqual(TextKind.of(path: "/app/.env"), .config)
        XCTAssertEqual(TextKind.of(path: "/etc/app/config.yaml"), .config)
        XCTAssertEqual(TextKind.of(path: "/root/credentials.txt"), .config)
        XCTAssertEqual(TextKind.of(path: "/usr/local/bin/entrypoint"), .config)
        XCTAssertEqual(TextKind.of(path: nil), .config)
        XCTAssertEqual(TextKind.of(path: "/usr/share/doc/pkg/README.Debian"), .prose)
        XCTAssertEqual(TextKind.of(path: "/usr/share/man/man1/ls.1.gz"), .prose)
        XCTAssertEqual(TextKind.of(path: "/opt/tool/docs/setup.md"), .prose)
        XCTAssertEqual(TextKind.of(path: "/opt/tool/CHANGELOG"), .prose)
        XCTAssertEqual(TextKind.of(path: "/opt/tool/man/tool.8"), .prose)
    }

    func testCodeNeedsAStringLiteral() {
        // A literal is a value in code, as in config.
        XCTAssertEqual(genericFindings(#"password := "Zx8pQ2rT7vLm3kYw""#, path: "/src/db.go"), ["Zx8pQ2rT7vLm3kYw"])
        XCTAssertEqual(genericFindings(#"SECRET_KEY = 'dj4n-g0$k3y!q7z&x2v9wp5r'"#, path: "/app/settings.py"), ["dj4n-g0$k3y!q7z&x2v9wp5r"])
        XCTAssertEqual(genericFindings(#"{\"password\":\"Zx8pQ2rT7vLm3kYw\"}"#, path: "/app/fixture.js"), ["Zx8pQ2rT7vLm3kYw"])
        // Bare words in code are identifiers, constants or expressions: never values.
        XCTAssertEqual(genericFindings("token = Tq9vX2mLp7RzWk4", path: "/src/lexer.rb"), [])
        XCTAssertEqual(genericFindings("apiKey:a9Xk2Lq7Vn3Pz8", path: "/app/dist/bundle.min.js"), [])
        // A literal that is a printf template, or only part of a longer literal.
        XCTAssertEqual(genericFindings(#"password = "%s-Zx8pQ2rT7vLm3kYw""#, path: "/src/db.py"), [])
        XCTAssertEqual(genericFindings(#"msg = "the token: Zx8pQ2rT7vLm3kYw was rejected""#, path: "/src/db.py"), [])
        // The same bare assignment is a value in configuration and scripts, and in history lines.
        XCTAssertEqual(genericFindings("token = Tq9vX2mLp7RzWk4", path: "/etc/app.ini"), ["Tq9vX2mLp7RzWk4"])
        XCTAssertEqual(genericFindings("export DB_PASSWORD=Zx8pQ2rT7vLm3kYw", path: "/docker-entrypoint.sh"), ["Zx8pQ2rT7vLm3kYw"])
        XCTAssertEqual(genericFindings("DB_PASSWORD=Zx8pQ2rT7vLm3kYw", path: nil), ["Zx8pQ2rT7vLm3kYw"])
    }

    func testCommentsWordsAndDocumentationValues() {
        // In code, a commented line is documentation; C's #define is not a comment.
        XCTAssertEqual(genericFindings("#   uri.password = \"Zx8pQ2rT7vLm3kYw\"", path: "/lib/uri.rb"), [])
        XCTAssertEqual(genericFindings("  // token = \"Zx8pQ2rT7vLm3kYw\"", path: "/src/a.go"), [])
        XCTAssertEqual(genericFindings("#define API_KEY \"Zx8pQ2rT7vLm3kYw\"", path: "/src/config.h"), [])
        XCTAssertEqual(genericFindings("#define API_KEY = \"Zx8pQ2rT7vLm3kYw\"", path: "/src/config.h"), ["Zx8pQ2rT7vLm3kYw"])
        // Names, not secrets: a header name, a field name, a test label.
        XCTAssertEqual(genericFindings("TOKEN_KEY = \"x-goog-iam-authorization-token\"", path: "/lib/iam.rb"), [])
        XCTAssertEqual(genericFindings("LimitToken: \"MaxNumberOfDomains\",", path: "/sdk/api.go"), [])
        XCTAssertEqual(genericFindings("outToken: \"client-valid-token-1\",", path: "/ssh/auth.go"), [])
        // Documentation passwords however they are dressed.
        for value in ["p%40ssw0rd", "V3ry_S3nsit1ve", "top-secret", "My%20Pass", "s3cr3t"] {
            XCTAssertTrue(SecretValues.isPlaceholder(value), value)
        }
        XCTAssertFalse(SecretValues.isPlaceholder("Zx8pQ2rT7vLm3kYw"))
    }

    func testProseIsNotAssignments() {
        XCTAssertEqual(genericFindings("Set password: Zx8pQ2rT7vLm3kYw in the form.", path: "/usr/share/doc/app/README"), [])
        XCTAssertEqual(genericFindings("`token = Tq9vX2mLp7RzWk4`", path: "/app/docs/api.md"), [])
        // A rule with its own proof still finds a secret in prose.
        let matcher = Matcher(rules)
        let found = matcher.scan(text: "token: ghp_4kLmN8pQ2rT7vX9zB3cD5fG1hJ6kL0mN2pQ4", path: "/app/README.md")
        XCTAssertFalse(found.isEmpty)
    }

    func testFormatStrings() {
        for template in ["%s", "%d", "%v", "%(name)s", "%-10s", "abc%5dxyz"] {
            XCTAssertTrue(template.utf8.withContiguousStorageIfAvailable { AssignmentSyntax.isFormatString(UnsafeRawBufferPointer($0)) } ?? false, template)
        }
        for value in ["Zx8pQ2rT7vLm3kYw", "100%", "a%zb"] {
            XCTAssertFalse(value.utf8.withContiguousStorageIfAvailable { AssignmentSyntax.isFormatString(UnsafeRawBufferPointer($0)) } ?? true, value)
        }
    }
}
