/// Rejects TOML that would trip an assertion inside toml++ (TOMLKit's parser) instead of
/// giving an error. toml++ asserts (in debug and in release builds alike: TOMLKit builds it
/// without NDEBUG) when a table header's name starts with a character that is neither a bare
/// key character nor a quote: `[`x]`, `[€]`, and a `[` or `[[` with nothing after it on its
/// line (the name would start with the line break); and when a `}` stands where an array
/// expects a value (`x = [}]`, `x = [1, }`). All found by fuzzing the rule loader
/// (scripts/fuzz.sh). Every TOML residue reads (rule files, gitleaks configs, .residue.toml)
/// passes through here.
///
/// A line is a header only at the top level: outside strings (`"…"`, `'…'`, and `"""`/`'''`
/// strings across lines) and outside arrays and inline tables left open by earlier lines (a
/// nested array may open on a line of its own). Comments are skipped. Works on the UTF-8
/// bytes, line by line (LF or CRLF): it runs on every rule file at every start, so it must cost
/// next to nothing.
public enum TOMLGuard {
    public static func check(_ text: String, origin: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes)
            var lineNumber = 0
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                lineNumber += 1
                if scanner.atTopLevel, let header = headerName(bytes, start, end) {
                    guard let first = header else {
                        throw RuleError("\(origin): line \(lineNumber): a table header must name its table on the same line")
                    }
                    let byte = bytes[first]
                    if !isBare(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "]") {
                        let character = String(decoding: bytes[first..<min(end, first + 4)], as: UTF8.self).first.map(String.init) ?? "?"
                        throw RuleError("\(origin): line \(lineNumber): a table name cannot start with \"\(character)\" (use a bare key or a quoted one)")
                    }
                }
                if !scanner.scanLine(start, end) {
                    throw RuleError("\(origin): line \(lineNumber): a \"}\" inside an array closes nothing (no inline table is open there)")
                }
                start = end + 1
            }
        }
    }

    private static func isBare(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// For a line that opens a `[table]` or `[[array]]` header: where its name starts, or
    /// `.some(nil)` when nothing but blanks, a comment or the line's end follows the brackets.
    /// nil when the line is not a header.
    private static func headerName(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int?? {
        var index = start
        func skipBlanks() {
            while index < end && (bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") || bytes[index] == UInt8(ascii: "\r")) {
                index += 1
            }
        }
        skipBlanks()
        guard index < end, bytes[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        if index < end && bytes[index] == UInt8(ascii: "[") { index += 1 }
        skipBlanks()
        if index >= end || bytes[index] == UInt8(ascii: "#") { return .some(nil) }
        return .some(index)
    }

    /// What the lines so far leave open: a multi-line string, and arrays and inline tables.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        /// The quote of a ''' or """ string still open.
        var openQuote: UInt8?
        /// `[` and `{` opened and not closed yet, innermost last (headers open and close theirs
        /// on their own line).
        var open: [UInt8] = []

        var atTopLevel: Bool { openQuote == nil && open.isEmpty }

        /// Follows one line; false when a `}` appears where the innermost open thing is an array.
        mutating func scanLine(_ start: Int, _ end: Int) -> Bool {
            var index = start
            while index < end {
                let byte = bytes[index]
                if let quote = openQuote {
                    if byte == quote && isTriple(index, end) {
                        openQuote = nil
                        index += 3
                    } else {
                        index += byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") ? 2 : 1
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "#"):
                    return true
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if isTriple(index, end) {
                        openQuote = byte
                        index += 3
                        continue
                    }
                    // A one-line string: to its closing quote (basic strings have escapes).
                    index += 1
                    while index < end && bytes[index] != byte {
                        index += byte == UInt8(ascii: "\"") && bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    index += 1
                    continue
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    open.append(byte)
                case UInt8(ascii: "]"):
                    if open.last == UInt8(ascii: "[") { open.removeLast() }
                case UInt8(ascii: "}"):
                    if open.last == UInt8(ascii: "[") { return false }
                    if open.last == UInt8(ascii: "{") { open.removeLast() }
                default:
                    break
                }
                index += 1
            }
            return true
        }

        private func isTriple(_ index: Int, _ end: Int) -> Bool {
            index + 2 < end && bytes[index + 1] == bytes[index] && bytes[index + 2] == bytes[index]
        }
    }
}
