import Foundation

/// Judgements about candidate secret values and the names they are assigned to, shared by
/// rules (`validate = "not-placeholder"`) and the secret-named-variable check.
public enum SecretValues {
    /// Shannon entropy in bits per byte.
    public static func entropy<C: Collection>(_ bytes: C) -> Double where C.Element == UInt8 {
        guard !bytes.isEmpty else { return 0 }
        var counts = [Int](repeating: 0, count: 256)
        for byte in bytes { counts[Int(byte)] += 1 }
        let total = Double(bytes.count)
        var result = 0.0
        for count in counts where count > 0 {
            let p = Double(count) / total
            result -= p * log2(p)
        }
        return result
    }

    static let placeholderWords: Set<String> = [
        "password", "passwd", "secret", "token", "changeme", "change_me", "changeit", "none", "null", "nil",
        "true", "false", "yes", "no", "test", "testing", "todo", "tbd", "default", "example", "sample",
        "placeholder", "redacted", "dummy", "fake", "mypassword", "yourpassword", "your_password", "secretkey",
        "apikey", "api_key", "undefined", "empty", "unset", "required", "optional", "string", "value",
        "admin", "root", "guest", "user", "username", "pass", "abc123", "123456", "12345678", "qwerty", "foobar",
        "foo", "bar", "baz", "qux", "xyz", "123", "1234", "12345",
    ]

    static let placeholderFragments = ["example", "changeme", "placeholder", "your_", "your-", "yourtoken",
                                       "redacted", "dummy", "xxxxx", "<your", "insert", "replace_me", "replaceme",
                                       "fixme", "*****", "...", "\u{2026}"]

    /// Passwords that documentation uses by tradition (Oracle's scott/tiger, `myuser:mypass`,
    /// `proxyuser:proxypass`…), compared after `isDocumentationWord`'s normalisation.
    static let documentationPasswords: Set<String> = [
        "tiger", "mypass", "proxypass", "topsecret", "supersecret", "verysensitive", "letmein",
        "opensesame", "swordfish", "pasword", "mysecret",
    ]

    /// Digits and signs that leetspeak writes for letters (`p@ssw0rd`).
    static let leet: [Character: Character] = ["0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"]

    /// A placeholder word however it is dressed: percent-encoded (`p%40ssword`), in leetspeak
    /// (`p@ssw0rd`, `s3cr3t`, `V3ry_S3nsit1ve`), with spaces or separators (`My Pass`,
    /// `top-secret`) — the letters that remain are a placeholder or a documentation password.
    static func isDocumentationWord(_ lower: String) -> Bool {
        let decoded = lower.removingPercentEncoding ?? lower
        let letters = String(decoded.compactMap { character -> Character? in
            let mapped = leet[character] ?? character
            return mapped.isLetter ? mapped : nil
        })
        guard letters.count >= 4, letters.count >= decoded.count / 2 else { return false }
        return placeholderWords.contains(letters) || documentationPasswords.contains(letters)
    }

    /// True for values that are not real secrets: references (`${X}`, `$X`, `$(cmd)`, `%X%`,
    /// `{{ x }}`, `<x>`, `ENV[...]`), placeholders (`changeme`, `xxxx`, `****`), paths to
    /// secret files, and one-character repeats.
    public static func isPlaceholder(_ value: String) -> Bool {
        let trimmed = value.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'`"))
        if trimmed.isEmpty { return true }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("$") || lower.hasPrefix("%") && lower.hasSuffix("%") { return true }
        if lower.contains("${") || lower.contains("$(") || lower.contains("{{") || lower.contains("<%") { return true }
        if lower.hasPrefix("<") && lower.hasSuffix(">") { return true }
        if lower.hasPrefix("/run/secrets") || lower.hasPrefix("/var/run/secrets") { return true }
        if lower.contains("os.environ") || lower.contains("os.getenv") || lower.contains("process.env")
            || lower.contains("env[") || lower.contains("getenv(") { return true }
        if placeholderWords.contains(lower) { return true }
        if isDocumentationWord(lower) { return true }
        if placeholderFragments.contains(where: lower.contains) { return true }
        if Set(lower).count <= 2 { return true }
        return false
    }

    /// Name tokens that make a variable a credential.
    static let secretTokens: Set<String> = ["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN",
                                            "TOKENS", "CREDENTIAL", "CREDENTIALS", "APIKEY", "PWD", "PASS", "AUTH"]
    /// Qualifiers that make `…_KEY` a credential (a bare `GPG_KEY` is a public fingerprint).
    static let keyQualifiers: Set<String> = ["API", "ACCESS", "SECRET", "PRIVATE", "MASTER", "SIGNING",
                                             "ENCRYPTION", "APP", "AUTH", "CLIENT", "LICENSE", "SERVICE", "ADMIN"]
    /// A trailing token that says the variable holds something about a secret, not the secret.
    static let nonSecretSuffixes: Set<String> = ["FILE", "PATH", "DIR", "NAME", "USER", "USERNAME", "ID", "HOST",
                                                 "PORT", "ENABLED", "ENABLE", "DISABLED", "LENGTH", "TTL", "EXPIRY",
                                                 "EXPIRES", "TIMEOUT", "TYPE", "HEADER", "FIELD", "ENDPOINT", "URL",
                                                 "URI", "LOCATION", "MODE", "VERSION", "REGION", "METHOD", "PREFIX",
                                                 "ALGORITHM", "LIFETIME", "SIZE", "FORMAT", "KIND", "SOURCE"]

    /// Splits `dbPassword`, `DB_PASSWORD`, `db-password` into upper-case tokens.
    static func nameTokens(_ name: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var previousLower = false
        for character in name {
            if character == "_" || character == "-" || character == "." {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                previousLower = false
                continue
            }
            if character.isUppercase && previousLower && !current.isEmpty {
                tokens.append(current)
                current = ""
            }
            current.append(character)
            previousLower = character.isLowercase || character.isNumber
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens.map { $0.uppercased() }
    }

    /// True when a variable's name says it holds a credential: `NPM_TOKEN`, `DB_PASSWORD`,
    /// `API_KEY`, `clientSecret` — but not `TOKEN_FILE`, `PASSWORD_PATH` or `GPG_KEY`.
    public static func isSecretName(_ name: String) -> Bool {
        let tokens = nameTokens(name)
        guard let last = tokens.last, !nonSecretSuffixes.contains(last) else { return false }
        for (index, token) in tokens.enumerated() {
            if secretTokens.contains(token) { return true }
            // Run-together names: PGPASSWORD, DBTOKEN, MYAPPSECRET.
            if ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY"].contains(where: { token.count > $0.count && token.hasSuffix($0) }) { return true }
            if token == "KEY", index > 0, keyQualifiers.contains(tokens[index - 1]) { return true }
            if token.hasSuffix("KEY"), keyQualifiers.contains(String(token.dropLast(3))) { return true }
        }
        return false
    }

    /// A value assigned to a secret name that is worth reporting: not a placeholder, not a short
    /// number or flag.
    public static func isRealSecretValue(_ value: String) -> Bool {
        if isPlaceholder(value) { return false }
        if value.count < 4 { return false }
        if value.count < 8, value.allSatisfy(\.isNumber) { return false }
        return true
    }
}

/// Named checks a rule can ask for (`validate = "…"`).
enum Validators {
    static let names = ["base64-userpass", "not-placeholder", "random-key", "jwt-claims"]

    static func named(_ name: String) -> ((String) -> Bool)? {
        switch name {
        case "base64-userpass": return isBase64UserPassword
        case "not-placeholder": return { !SecretValues.isPlaceholder($0) }
        case "random-key": return isRandomKey
        case "jwt-claims": return hasRealClaims
        default: return nil
        }
    }

    /// A key found only by a provider's name beside it (ProviderKey): random, so it has a digit
    /// (a random 32-character alphanumeric string lacks one 0.4% of the time; an identifier or a
    /// word of the same length nearly always does), letters unless it is all digits, and is not
    /// a placeholder.
    static func isRandomKey(_ value: String) -> Bool {
        var digits = 0, letters = 0
        for byte in value.utf8 {
            if byte >= 48 && byte <= 57 { digits += 1 } else if (byte | 0x20) >= 97 && (byte | 0x20) <= 122 { letters += 1 }
        }
        return digits > 0 && (letters > 0 || digits == value.utf8.count) && !SecretValues.isPlaceholder(value)
    }

    /// Claims that documentation and library tests sign again and again: `{"foo":"bar"}`,
    /// RFC 7519's `"iss":"joe"` with `http://example.com/is_root`, jose's `urn:example:` claims,
    /// jwt.io's John Doe, `"iss":"test"`, `{"some":"payload"}`, go-jose's `"issuer"`/`"subject"`.
    static let exampleClaims = ["\"foo\":\"ba", "\"some\":\"payload\"", "example.com", "urn:example:", "\"johndoe\"",
                                "\"iss\":\"joe\"", "\"iss\":\"test\"", "\"iss\":\"issuer\"", "\"sub\":\"subject\""]

    /// A JWT whose claims say something: its payload decodes, and is not one of the example
    /// claim sets above. A token signed over `{"foo":"bar"}` grants nothing; one that does not
    /// decode is kept (it may be a real token cut oddly).
    static func hasRealClaims(_ token: String) -> Bool {
        let parts = token.split(separator: ".")
        guard parts.count >= 2 else { return true }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload), let text = String(data: data, encoding: .utf8) else { return true }
        let compact = String(text.lowercased().filter { !$0.isWhitespace })
        return !exampleClaims.contains { compact.contains($0) }
    }

    /// Base64 of `user:password` with a non-empty, non-placeholder password.
    static func isBase64UserPassword(_ value: String) -> Bool {
        var text = value.trimmingCharacters(in: .whitespaces)
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8),
              let colon = decoded.firstIndex(of: ":") else { return false }
        let password = String(decoded[decoded.index(after: colon)...])
        return !password.isEmpty && !SecretValues.isPlaceholder(password)
    }
}
