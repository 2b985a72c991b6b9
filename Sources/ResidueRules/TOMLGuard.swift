/// Rejects TOML that would trip an assertion inside toml++ (TOMLKit's parser) instead of
/// giving an error: a table header whose name starts with a character that is neither a bare
/// key character nor a quote (`[`x]`, `[€]`). In a debug build toml++ aborts on it, in a
/// release build it is undefined behaviour; found by fuzzing the rule loader (scripts/fuzz.sh).
/// Every TOML residue reads (rule files, gitleaks configs, .residue.toml) passes through here.
public enum TOMLGuard {
    public static func check(_ text: String, origin: String) throws {
        var inMultilineString: String?
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let startsInsideString = inMultilineString != nil
            // Track ''' and """ strings that span lines, so their contents are not mistaken for headers.
            var rest = Substring(line)
            while !rest.isEmpty {
                if let open = inMultilineString {
                    guard let end = rest.range(of: open) else { break }
                    rest = rest[end.upperBound...]
                    inMultilineString = nil
                } else {
                    let single = rest.range(of: "'''"), double = rest.range(of: "\"\"\"")
                    guard let first = [single, double].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) else { break }
                    inMultilineString = String(rest[first])
                    rest = rest[first.upperBound...]
                }
            }
            if startsInsideString { continue }
            var header = line.drop { $0 == " " || $0 == "\t" }
            guard header.first == "[" else { continue }
            header = header.dropFirst()
            if header.first == "[" { header = header.dropFirst() }
            header = header.drop { $0 == " " || $0 == "\t" }
            guard let first = header.first else { continue }
            let bare = first.isASCII && (first.isLetter || first.isNumber || first == "_" || first == "-")
            if !bare && first != "\"" && first != "'" && first != "]" {
                throw RuleError("\(origin): line \(number + 1): a table name cannot start with \"\(first)\" (use a bare key or a quoted one)")
            }
        }
    }
}
