/// The longest match a PCRE2 pattern can produce, in bytes, read from the pattern text (nil:
/// unbounded — `*`, `+`, `{n,}` — or a construct this reader does not know, such as a back
/// reference or extended mode). Lookarounds add nothing: they look, they do not consume.
///
/// The matcher uses it to run a rule's regex only in a window around each keyword hit: a match
/// that contains a keyword ending at `e` lies inside `[e − maxLength, e + maxLength)`.
enum RegexLength {
    static func maxLength(_ pattern: String) -> Int? {
        var parser = Parser(bytes: Array(pattern.utf8))
        guard let length = parser.alternation(), parser.index == parser.bytes.count, !parser.unknown else { return nil }
        return length == Parser.infinite ? nil : length
    }

    private struct Parser {
        static let infinite = Int.max / 4
        let bytes: [UInt8]
        var index = 0
        var unknown = false

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index >= bytes.count }
        func peek(_ offset: Int = 0) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

        static func add(_ a: Int, _ b: Int) -> Int { a >= infinite || b >= infinite ? infinite : a + b }
        static func times(_ a: Int, _ n: Int) -> Int {
            if a == 0 || n == 0 { return 0 }
            if a >= infinite || n >= infinite { return infinite }
            return a > infinite / n ? infinite : a * n
        }

        /// alternative ('|' alternative)* — stops before ')' or at the end.
        mutating func alternation() -> Int? {
            var best = 0
            while true {
                guard let length = sequence() else { return nil }
                best = max(best, length)
                if peek() == UInt8(ascii: "|") { index += 1; continue }
                return best
            }
        }

        mutating func sequence() -> Int? {
            var total = 0
            while let byte = peek(), byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
                guard let atom = atom() else { return nil }
                let (_, upper) = quantifier()
                total = Self.add(total, Self.times(atom, upper))
            }
            return total
        }

        /// One atom's maximum length (0 for assertions and option settings).
        mutating func atom() -> Int? {
            guard let byte = peek() else { return nil }
            switch byte {
            case UInt8(ascii: "("):
                return group()
            case UInt8(ascii: "["):
                return characterClass()
            case UInt8(ascii: "\\"):
                return escape()
            case UInt8(ascii: "^"), UInt8(ascii: "$"):
                index += 1
                return 0
            default:
                index += 1
                return 1
            }
        }

        mutating func group() -> Int? {
            index += 1 // (
            var lookaround = false
            if peek() == UInt8(ascii: "*") { unknown = true; return nil } // (*VERB)
            if peek() == UInt8(ascii: "?") {
                index += 1
                guard let kind = peek() else { return nil }
                switch kind {
                case UInt8(ascii: ":"), UInt8(ascii: ">"), UInt8(ascii: "|"):
                    index += 1
                case UInt8(ascii: "="), UInt8(ascii: "!"):
                    index += 1
                    lookaround = true
                case UInt8(ascii: "<") where peek(1) == UInt8(ascii: "=") || peek(1) == UInt8(ascii: "!"):
                    index += 2
                    lookaround = true
                case UInt8(ascii: "<"), UInt8(ascii: "'"), UInt8(ascii: "P"):
                    // named group: skip to the end of the name
                    if kind == UInt8(ascii: "P") { index += 1 }
                    let close = kind == UInt8(ascii: "'") ? UInt8(ascii: "'") : UInt8(ascii: ">")
                    while let b = peek(), b != close { index += 1 }
                    index += 1
                case UInt8(ascii: "#"):
                    while let b = peek(), b != UInt8(ascii: ")") { index += 1 }
                    index += 1
                    return 0
                default:
                    // Options: (?i) (?-i) (?m) or a group with options (?i: …); extended mode is unknown.
                    var flags: [UInt8] = []
                    while let b = peek(), b != UInt8(ascii: ")"), b != UInt8(ascii: ":") { flags.append(b); index += 1 }
                    if flags.contains(UInt8(ascii: "x")) || flags.contains(where: { !Self.isFlag($0) }) { unknown = true; return nil }
                    if peek() == UInt8(ascii: ")") { index += 1; return 0 }
                    index += 1 // ':'
                }
            }
            guard let inner = alternation(), peek() == UInt8(ascii: ")") else { unknown = true; return nil }
            index += 1
            return lookaround ? 0 : inner
        }

        static func isFlag(_ byte: UInt8) -> Bool {
            "imnsJU-^".utf8.contains(byte)
        }

        mutating func characterClass() -> Int? {
            index += 1 // [
            if peek() == UInt8(ascii: "^") { index += 1 }
            if peek() == UInt8(ascii: "]") { index += 1 }
            while let byte = peek() {
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "["), peek(1) == UInt8(ascii: ":") {
                    while let b = peek(), !(b == UInt8(ascii: ":") && peek(1) == UInt8(ascii: "]")) { index += 1 }
                    index += 2
                    continue
                }
                index += 1
                if byte == UInt8(ascii: "]") { return 1 }
            }
            unknown = true
            return nil
        }

        mutating func escape() -> Int? {
            index += 1 // backslash
            guard let byte = peek() else { unknown = true; return nil }
            index += 1
            switch byte {
            case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "A"), UInt8(ascii: "z"), UInt8(ascii: "Z"),
                 UInt8(ascii: "G"), UInt8(ascii: "K"):
                return 0
            case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "k"), UInt8(ascii: "g"), UInt8(ascii: "Q"),
                 UInt8(ascii: "X"), UInt8(ascii: "R"), UInt8(ascii: "C"):
                unknown = true
                return nil
            case UInt8(ascii: "x"), UInt8(ascii: "p"), UInt8(ascii: "P"), UInt8(ascii: "o"):
                if peek() == UInt8(ascii: "{") {
                    while let b = peek(), b != UInt8(ascii: "}") { index += 1 }
                    index += 1
                } else if byte == UInt8(ascii: "x") {
                    var digits = 0
                    while digits < 2, let b = peek(), b.isHexDigit { index += 1; digits += 1 }
                } else if byte != UInt8(ascii: "o") {
                    index += 1 // \pL
                }
                return 1
            default:
                return 1
            }
        }

        /// The quantifier after an atom, if any: (minimum, maximum) repetitions.
        mutating func quantifier() -> (Int, Int) {
            guard let byte = peek() else { return (1, 1) }
            var result: (Int, Int)
            switch byte {
            case UInt8(ascii: "?"): index += 1; result = (0, 1)
            case UInt8(ascii: "*"): index += 1; result = (0, Self.infinite)
            case UInt8(ascii: "+"): index += 1; result = (1, Self.infinite)
            case UInt8(ascii: "{"):
                // {n} {n,} {n,m}; anything else is a literal brace (PCRE2 10.42).
                var cursor = index + 1
                func number() -> Int? {
                    var value = 0, digits = 0
                    while cursor < bytes.count, bytes[cursor] >= 48, bytes[cursor] <= 57 {
                        value = min(value * 10 + Int(bytes[cursor] - 48), 1 << 20)
                        cursor += 1
                        digits += 1
                    }
                    return digits > 0 ? value : nil
                }
                guard let low = number() else { return (1, 1) }
                var high = low
                if cursor < bytes.count, bytes[cursor] == UInt8(ascii: ",") {
                    cursor += 1
                    high = number() ?? Self.infinite
                }
                guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "}") else { return (1, 1) }
                index = cursor + 1
                result = (low, high)
            default:
                return (1, 1)
            }
            if let suffix = peek(), suffix == UInt8(ascii: "?") || suffix == UInt8(ascii: "+") { index += 1 }
            return result
        }
    }
}

private extension UInt8 {
    var isHexDigit: Bool {
        (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self)
    }
}
