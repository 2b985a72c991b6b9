/// Judges a generic rule's match ("a secret-named key assigned a random-looking value") by the
/// syntax of the text it is in, instead of by ever more exceptions in one regex (DESIGN.md,
/// "Generic rules"). The regex finds `name = value`; this decides whether `value` is a value:
/// - in source code, only a string literal is (`MaxNumberOfRecords`, `RDoc::Token`,
///   `t.apiKey||x` are identifiers and expressions) — the value must sit between matching
///   quotes, and a printf-style format (`"%s:%s"`) is a template, not a value;
/// - in configuration and scripts, a bare value is one (`.env`, INI, YAML, properties, shell);
/// - in prose (README, Markdown, HTML, man pages), none is: `password: hunter2abc` there is
///   text for a reader. Rules with their own proof (a prefix, a checksum, a key block) still
///   find secrets in prose.
public enum AssignmentSyntax {
    /// Whether the secret at `secret` (a byte range of `bytes`) is a value in a file of `kind`.
    public static func isValue(_ bytes: UnsafeRawBufferPointer, secret: Range<Int>, kind: TextKind) -> Bool {
        if isWords(UnsafeRawBufferPointer(rebasing: bytes[secret])) { return false }
        switch kind {
        case .config: return true
        case .prose: return false
        case .code: return isStringLiteral(bytes, secret) && !isInComment(bytes, at: secret.lowerBound)
        }
    }

    /// Words, not a secret: letters in words joined by `-` `_` `.` `:` `/` or case changes, with
    /// at most two digits at the end — a header name (`x-goog-iam-authorization-token`), a field
    /// or message name (`MaxNumberOfDomains`, `userauth_gssapi_token`), a route target, a test
    /// label (`client-valid-token-1`). A random secret of 12 or more characters has digits.
    static func isWords(_ value: UnsafeRawBufferPointer) -> Bool {
        var end = value.count
        var trailingDigits = 0
        while end > 0, value[end - 1] >= 48 && value[end - 1] <= 57 { end -= 1; trailingDigits += 1 }
        guard trailingDigits <= 2, end > 0 else { return false }
        var letters = 0
        for byte in value[0..<end] {
            if (byte | 0x20) >= 97 && (byte | 0x20) <= 122 { letters += 1; continue }
            guard "-_.:/#".utf8.contains(byte) else { return false }
        }
        return letters >= 8
    }

    /// The position is on a line that a comment starts (`#`, `//`, `/*`, `*`, `--`, `;`): in
    /// source code that is documentation (`#   uri.password = "V3ry_S3nsit1ve"`), not a setting.
    static func isInComment(_ bytes: UnsafeRawBufferPointer, at position: Int) -> Bool {
        var start = position
        while start > 0, bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        while start < position, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        guard start < position else { return false }
        let first = bytes[start], second = start + 1 < position ? bytes[start + 1] : 0
        // `#define API_KEY "…"` is C's preprocessor, not a comment.
        if first == UInt8(ascii: "#") { return !Array(bytes[start..<min(position, start + 7)]).starts(with: Array("#define".utf8)) }
        if first == UInt8(ascii: ";") || first == UInt8(ascii: "*") { return true }
        if first == UInt8(ascii: "/"), second == UInt8(ascii: "/") || second == UInt8(ascii: "*") { return true }
        return first == UInt8(ascii: "-") && second == UInt8(ascii: "-")
    }

    static let quotes: Set<UInt8> = [UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`")]
    static let backslash = UInt8(ascii: "\\")

    /// The secret is the whole content of a quoted literal (`"…"`, `'…'`, `` `…` ``, or `\"…\"`
    /// inside another literal), and not a format string.
    static func isStringLiteral(_ bytes: UnsafeRawBufferPointer, _ secret: Range<Int>) -> Bool {
        guard secret.lowerBound > 0, secret.upperBound < bytes.count else { return false }
        let open = bytes[secret.lowerBound - 1]
        guard quotes.contains(open) else { return false }
        var close = secret.upperBound
        if bytes[close] == backslash, close + 1 < bytes.count { close += 1 }
        guard bytes[close] == open else { return false }
        return !isFormatString(UnsafeRawBufferPointer(rebasing: bytes[secret]))
    }

    /// A printf-style verb (`%s`, `%d`, `%v`, `%(name)s`, `%-10s`): a template for a value.
    static func isFormatString(_ value: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index + 1 < value.count {
            if value[index] == UInt8(ascii: "%") {
                var next = index + 1
                while next < value.count, value[next] == UInt8(ascii: "-") || (value[next] >= 48 && value[next] <= 57) { next += 1 }
                if next < value.count, "sdvqxfr(".utf8.contains(value[next]) { return true }
            }
            index += 1
        }
        return false
    }
}
