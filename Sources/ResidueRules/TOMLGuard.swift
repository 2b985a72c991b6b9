/// Rejects TOML that would trip an assertion inside toml++ (TOMLKit's parser) instead of
/// giving an error: a table header whose name starts with a character that is neither a bare
/// key character nor a quote (`[`x]`, `[€]`). In a debug build toml++ aborts on it, in a
/// release build it is undefined behaviour; found by fuzzing the rule loader (scripts/fuzz.sh).
/// Every TOML residue reads (rule files, gitleaks configs, .residue.toml) passes through here.
///
/// Works on the UTF-8 bytes, line by line (LF or CRLF): it runs on every rule file at every
/// start, so it must cost next to nothing.
public enum TOMLGuard {
    public static func check(_ text: String, origin: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            var openQuote: UInt8?   // the quote of a ''' or """ string still open at this point
            var lineNumber = 0
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                lineNumber += 1
                let startsInsideString = openQuote != nil
                // Track ''' and """ strings that span lines, so their contents are not mistaken for headers.
                var index = start
                while index + 2 < end {
                    let byte = bytes[index]
                    let triple = (byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"")) && bytes[index + 1] == byte && bytes[index + 2] == byte
                    if triple && (openQuote == nil || openQuote == byte) {
                        openQuote = openQuote == nil ? byte : nil
                        index += 3
                    } else {
                        index += 1
                    }
                }
                if !startsInsideString, let first = headerStart(bytes, start, end) {
                    let byte = bytes[first]
                    let bare = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                    if !bare && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "]") {
                        let character = String(decoding: bytes[first..<min(end, first + 4)], as: UTF8.self).first.map(String.init) ?? "?"
                        throw RuleError("\(origin): line \(lineNumber): a table name cannot start with \"\(character)\" (use a bare key or a quoted one)")
                    }
                }
                start = end + 1
            }
        }
    }

    /// Where the name of a `[table]` or `[[array]]` header on the line starts (nil: not a
    /// header, or nothing after the brackets).
    private static func headerStart(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var index = start
        func skipBlanks() { while index < end && (bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t")) { index += 1 } }
        skipBlanks()
        guard index < end, bytes[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        if index < end && bytes[index] == UInt8(ascii: "[") { index += 1 }
        skipBlanks()
        return index < end ? index : nil
    }
}
