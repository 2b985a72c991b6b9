import Foundation

/// A provider whose keys carry no prefix of their own — a 32-character random string is a
/// Mailgun key only because "mailgun" is written next to it. Hundreds of SaaS APIs issue keys
/// like that; writing one regex each would give hundreds of slightly different regexes. A
/// provider is data instead (`[[providers]]` in `Rules/providers.toml`): the words that name it,
/// the alphabet and length of its keys, how far from the word the key may be. Each one becomes
/// an ordinary `Rule` (`rule()`), so it runs, tests and reports like every other rule: anchored
/// at the provider's word (keywordLead 0), at `medium` confidence naming the provider.
public struct ProviderKey: Sendable, Codable {
    /// The rule id, e.g. `airtable-api-key`.
    public var id: String
    /// The provider's name as people write it: "Airtable".
    public var provider: String
    /// What the secret is: "API key" (default), "access token", "webhook secret"…
    public var secret: String?
    public var severity: Severity?
    /// How sure a match is (default medium: nothing but a nearby word says whose key it is).
    public var confidence: Confidence?
    /// The words that name the provider near its keys (case-insensitive): "airtable".
    public var keywords: [String]
    /// The key's characters: a name (`hex`, `hex-upper`, `hex-any`, `alnum`, `alnum-lower`,
    /// `alnum-upper`, `base64`, `base64url`, `digits`) or a PCRE2 class such as `[A-Za-z0-9_]`.
    public var alphabet: String
    /// Exact lengths a key can have (`[32]`, `[32, 40]`), or `minLength`/`maxLength`.
    public var lengths: [Int]?
    public var minLength: Int?
    public var maxLength: Int?
    /// Most characters between the end of the provider's word and the key (default 40); they
    /// may span a line break (`mailgun:` then `  api_key: …` on the next line).
    public var distance: Int?
    /// Minimum Shannon entropy of the key (default 3.0 bits per character).
    public var entropy: Double?
    public var examples: [String]?
    public var counterExamples: [String]?

    static let defaultDistance = 40
    static let defaultEntropy = 3.0

    /// The class of a named alphabet, and the characters that, next to a key, show it is part
    /// of a longer word (so it is not the key): letters, digits, `_`, and the alphabet's own
    /// punctuation.
    static func classes(_ alphabet: String) -> (key: String, boundary: String)? {
        switch alphabet {
        case "hex": return ("[0-9a-f]", "[A-Za-z0-9_]")
        case "hex-upper": return ("[0-9A-F]", "[A-Za-z0-9_]")
        case "hex-any": return ("[0-9A-Fa-f]", "[A-Za-z0-9_]")
        case "alnum": return ("[A-Za-z0-9]", "[A-Za-z0-9_]")
        case "alnum-lower": return ("[a-z0-9]", "[A-Za-z0-9_]")
        case "alnum-upper": return ("[A-Z0-9]", "[A-Za-z0-9_]")
        case "base64": return ("[A-Za-z0-9+/]", "[A-Za-z0-9_+/]")
        case "base64url": return ("[A-Za-z0-9_-]", "[A-Za-z0-9_-]")
        case "digits": return ("[0-9]", "[A-Za-z0-9_]")
        default:
            guard alphabet.hasPrefix("["), alphabet.hasSuffix("]"), alphabet.count > 2 else { return nil }
            // A custom class: its own characters, plus letters, digits and '_', are the boundary.
            return (alphabet, "[A-Za-z0-9_" + alphabet.dropFirst().dropLast() + "]")
        }
    }

    /// What precedes a digest rather than a key: `sha256:`, `sha512-`, `sha1=`, `md5:`,
    /// go.sum's `h1:`, a URL fragment's `#`, a package version's `@`.
    /// (Each alternative of a PCRE2 lookbehind must have a fixed length: one per algorithm.)
    static let digestMarkers = "(?<!" + ["sha1", "sha224", "sha256", "sha384", "sha512", "md5"].map { "(?i:\($0))[-:=]|" }.joined()
        + "(?i:h1):|[#@])"

    /// `text` with every character that means something in a PCRE2 pattern escaped.
    static func literal(_ text: String) -> String {
        var out = ""
        for character in text {
            if character.isLetter || character.isNumber || character == " " || character == "_" {
                out.append(character)
            } else {
                out += "\\" + String(character)
            }
        }
        return out
    }

    /// The rule this provider stands for. `origin` names the file in errors.
    public func rule(origin: String) throws -> Rule {
        let place = "\(origin): provider \(id)"
        guard !keywords.isEmpty, !keywords.contains(where: \.isEmpty) else {
            throw RuleError("\(place): keywords must list at least one non-empty word")
        }
        guard let classes = Self.classes(alphabet) else {
            throw RuleError("\(place): unknown alphabet \"\(alphabet)\" (a name such as hex, alnum, base64url, or a class such as [A-Za-z0-9_])")
        }
        let repeat_: String
        if let lengths, !lengths.isEmpty {
            guard minLength == nil, maxLength == nil else { throw RuleError("\(place): give lengths or minLength/maxLength, not both") }
            guard lengths.allSatisfy({ (8...256).contains($0) }) else { throw RuleError("\(place): lengths must be between 8 and 256") }
            // Longest first: each length is exact, and the boundary after the key rejects a
            // shorter length that is the start of a longer run.
            repeat_ = "(?:" + lengths.sorted(by: >).map { "\(classes.key){\($0)}" }.joined(separator: "|") + ")"
        } else if let minLength, let maxLength, 8 <= minLength, minLength <= maxLength, maxLength <= 256 {
            repeat_ = "\(classes.key){\(minLength),\(maxLength)}+"
        } else {
            throw RuleError("\(place): needs lengths = [N, …] or minLength and maxLength (8 to 256)")
        }
        let distance = self.distance ?? Self.defaultDistance
        guard (0...200).contains(distance) else { throw RuleError("\(place): distance must be between 0 and 200") }
        let words = keywords.map { Self.literal($0) }.joined(separator: "|")
        // The provider's word, then (lazily) the nearest run of key characters of a key's
        // length that stands on its own, at most `distance` bytes further on. Where a provider's
        // name is also a package name, the run beside it is often a digest (a lockfile's
        // `sha512-…`, go.sum's `h1:…`, a wheel RECORD's `sha256=…`, `name@version`): a run after
        // a digest marker, or cut out of a longer base64 run (`+`, `-`, `=` beside it), is not a key.
        let before = Self.digestMarkers + "(?<![+\\-])(?<!\(classes.boundary))"
        let after = "(?![+=\\-])(?!\(classes.boundary))"
        // The word starts a word, or a camelCase part (`getMailgunKey`): "oanda" inside
        // `VideoAndAudio` is not OANDA.
        let wordStart = "(?:(?<![A-Za-z])|(?<=[a-z0-9])(?=[A-Z]))"
        let regex = "\(wordStart)(?i:\(words))[\\s\\S]{0,\(distance)}?\(before)(\(repeat_))\(after)"
        return Rule(
            id: id, title: "\(provider) \(secret ?? "API key") (by name)", severity: severity ?? .high, regex: regex,
            secretGroup: 1, keywords: keywords, entropy: entropy ?? Self.defaultEntropy, caseInsensitive: false,
            paths: nil, allow: nil, binary: nil, generic: nil, validate: "random-key", keywordLead: 0,
            keywordScope: nil, confidence: confidence ?? .medium, checksum: nil, allowlists: nil, publicSamples: nil, contextual: true,
            examples: examples, counterExamples: counterExamples)
    }
}
