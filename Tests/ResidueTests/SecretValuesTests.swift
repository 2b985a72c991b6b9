@testable import ResidueScan
import ResidueRules
import XCTest

final class SecretValuesTests: XCTestCase {
    func testSecretNames() {
        for name in ["NPM_TOKEN", "DB_PASSWORD", "API_KEY", "AWS_SECRET_ACCESS_KEY", "clientSecret", "dbPassword",
                     "GITHUB_PAT_TOKEN", "SECRET_KEY_BASE", "PGPASSWORD_X", "MYSQL_ROOT_PASSWORD", "app-secret", "STRIPE_APIKEY"] {
            XCTAssertTrue(SecretValues.isSecretName(name), name)
        }
        for name in ["PATH", "GPG_KEY", "TOKEN_FILE", "PASSWORD_PATH", "API_TOKEN_FILE", "SECRET_NAME", "AWS_ACCESS_KEY_ID",
                     "HOME", "NODE_VERSION", "KEYCLOAK_URL", "TOKEN_TTL", "BYPASS", "PASSWORD_MIN_LENGTH", "monkey"] {
            XCTAssertFalse(SecretValues.isSecretName(name), name)
        }
    }

    func testPlaceholdersAreNotSecrets() {
        for value in ["", "${PASSWORD}", "$PASSWORD", "$(cat /run/secrets/x)", "<your-token>", "changeme", "xxxxxxxx",
                      "********", "{{ .Values.password }}", "/run/secrets/token", "os.environ[\"X\"]", "your_api_key_here",
                      "%DB_PASSWORD%", "EXAMPLE-KEY", "password"] {
            XCTAssertFalse(SecretValues.isRealSecretValue(value), value)
        }
        for value in ["hunter22", "s3cr3t-Pa55w0rd", "9fK2mQ7xLp", "wJalrXUtnFEMI/K7MDENG"] {
            XCTAssertTrue(SecretValues.isRealSecretValue(value), value)
        }
        XCTAssertFalse(SecretValues.isRealSecretValue("123"))
        XCTAssertFalse(SecretValues.isRealSecretValue("3600"))
    }

    func testEntropy() {
        XCTAssertEqual(SecretValues.entropy(Array("aaaa".utf8)), 0)
        XCTAssertEqual(SecretValues.entropy(Array("abcd".utf8)), 2, accuracy: 1e-9)
        XCTAssertGreaterThan(SecretValues.entropy(Array("wJalrXUtnFEMI/K7MDENG/bPxRfiCY".utf8)), 4)
    }
}

final class KeywordScannerTests: XCTestCase {
    func scan(_ automaton: KeywordScanner, _ text: String) -> [Bool] {
        var found = [Bool](repeating: false, count: automaton.keywordCount)
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { automaton.scan(UnsafeRawBufferPointer($0), found: &found, scratch: KeywordHits(capacity: 1)) }
        return found
    }

    func testFindsEveryKeywordCaseInsensitively() {
        let automaton = KeywordScanner(keywords: ["ghp_", "akia", "password", "pass", "ssword"])
        XCTAssertEqual(scan(automaton, "x GHP_abc and AKIAXYZ"), [true, true, false, false, false])
        // Overlapping keywords (through failure links) are all reported.
        XCTAssertEqual(scan(automaton, "my PassWord"), [false, false, true, true, true])
        XCTAssertEqual(scan(automaton, "nothing here"), [false, false, false, false, false])
    }

    func testBinaryBytes() {
        let automaton = KeywordScanner(keywords: ["-----begin"])
        var bytes: [UInt8] = [0, 255, 0x80] + Array("-----BEGIN".utf8) + [0]
        var found = [false]
        bytes.withUnsafeMutableBytes { automaton.scan(UnsafeRawBufferPointer($0), found: &found, scratch: KeywordHits(capacity: 1)) }
        XCTAssertEqual(found, [true])
    }
}

final class ScrubTests: XCTestCase {
    /// Thousands of secrets, one pass per text: every secret that occurs is masked (a longer one
    /// whole, before a shorter one inside it), a case variant that is not the secret is left, and
    /// the text without secrets comes back unchanged.
    func testScrubMasksExactlyTheSecretsPresentAmongThousands() {
        var secrets = (0..<5000).map { (secret: "Tok\($0)Zq8vL2mX7tK9", revealPrefix: false) }
        secrets.append((secret: "ghp_Q8mXz2Lr5Tn7Vb1Kc4Wd9Yf3Hg6Js0Pa2Re5", revealPrefix: true))
        secrets.append((secret: "Q8mXz2Lr5Tn7", revealPrefix: false))
        let scrub = SecretsToScrub(secrets.sorted { $0.secret.utf8.count > $1.secret.utf8.count })
        let redactor = Redactor(showSecrets: false)
        let text = "RUN curl -H 'token: Tok4711Zq8vL2mX7tK9' -u x:ghp_Q8mXz2Lr5Tn7Vb1Kc4Wd9Yf3Hg6Js0Pa2Re5 && echo tok12zq8vl2mx7tk9 Q8mXz2Lr5Tn7"
        XCTAssertEqual(redactor.scrub(text, secrets: scrub),
                       "RUN curl -H 'token: *****' -u x:ghp_***** && echo tok12zq8vl2mx7tk9 *****")
        XCTAssertEqual(redactor.scrub("RUN make", secrets: scrub), "RUN make")
        XCTAssertEqual(Redactor(showSecrets: true).scrub(text, secrets: scrub), text)
    }
}
