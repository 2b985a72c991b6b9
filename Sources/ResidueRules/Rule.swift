import Foundation
import TOMLKit

/// A detection rule, as written in `Rules/*.toml` (see Rules/README.md).
public struct Rule: Sendable, Codable {
    public var id: String
    public var title: String
    public var severity: Severity
    public var regex: String
    public var secretGroup: Int?
    public var keywords: [String]
    public var entropy: Double?
    public var caseInsensitive: Bool?
    public var paths: [String]?
    public var allow: [String]?
    public var binary: Bool?
    public var generic: Bool?
    public var validate: String?
    /// The match starts at most this many bytes before (the start of) one of the keywords it
    /// contains (0: it starts with the keyword). Lets the scan try an anchored match at each
    /// keyword instead of searching around it; the rule tests check it on every example.
    public var keywordLead: Int?
    /// Where a keyword must be for the regex to run: `match` (default: inside the match; the
    /// regex runs only near keywords) or `buffer` (anywhere in the scanned buffer, as gitleaks
    /// does: for a token without a literal part, found by a name elsewhere in the file — the
    /// regex then searches the whole buffer).
    public var keywordScope: KeywordScope?
    /// How sure a match is, before checksums and context adjust it (Confidence.swift).
    public var confidence: Confidence?
    /// A vendor checksum in the token format that raises (or lowers) confidence (Checksums.swift).
    public var checksum: String?
    /// Further exceptions, each a set of conditions (gitleaks' `[[rules.allowlists]]`).
    public var allowlists: [Allowlist]?
    /// Keys that vendors publish as samples (SDK documentation, quick-start projects): still
    /// reported — a sample key can be live — but at low confidence, saying so. Each one's
    /// source is a comment in the rule file.
    public var publicSamples: [String]?
    /// The secret is known by what surrounds it (a header, a command-line option, a manifest's
    /// structure), not by its own shape: a rule that knows the shape wins the same secret
    /// (RulePriority), and no part of it shows when redacted.
    public var contextual: Bool?
    public var examples: [String]?
    public var counterExamples: [String]?

    /// A match is let go when the list's conditions hold: any of them (`or`, the default) or
    /// all the list sets (`and`).
    public struct Allowlist: Sendable, Codable {
        public enum Target: String, Sendable, Codable { case secret, match, line }
        public var regexes: [String]?
        /// What `regexes` are tested against: the secret (default), the whole match, or its line.
        public var target: Target?
        /// The file's path matches one of these.
        public var paths: [String]?
        /// The secret contains one of these (case-insensitive).
        public var stopwords: [String]?
        /// "or" (default) or "and".
        public var condition: String?
        public init(regexes: [String]? = nil, target: Target? = nil, paths: [String]? = nil, stopwords: [String]? = nil, condition: String? = nil) {
            self.regexes = regexes; self.target = target; self.paths = paths; self.stopwords = stopwords; self.condition = condition
        }
    }

    public enum KeywordScope: String, Sendable, Codable { case match, buffer }

    public var isGeneric: Bool { generic ?? false }
    /// The confidence the rule declares, or its default: generic rules low, others medium.
    public var baseConfidence: Confidence { confidence ?? (isGeneric ? .low : .medium) }
    public var searchesBinaries: Bool { binary ?? false }
    /// Limited to files whose paths match `paths`.
    public var isPathScoped: Bool { !(paths ?? []).isEmpty }
}

/// The rules of one file: `[[rules]]` tables, and `[[providers]]` (ProviderKey.swift), each of
/// which stands for a rule.
struct RuleFile: Decodable {
    var rules: [Rule]?
    var providers: [ProviderKey]?
}

public struct RuleError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum RuleLoader {
    /// Parses one TOML rule file. `origin` names it in errors.
    public static func parse(_ text: String, origin: String) throws -> [Rule] {
        if GitleaksConfig.looksLikeGitleaks(text) { return try GitleaksConfig.translate(text, origin: origin) }
        let file: RuleFile
        do {
            try TOMLGuard.check(text, origin: origin)
            file = try TOMLDecoder().decode(RuleFile.self, from: text)
        } catch let error as TOMLParseError {
            throw RuleError("\(origin): line \(error.source.begin.line): \(error.description)")
        } catch let error as DecodingError {
            throw RuleError("\(origin): \(DecodingErrorText.describe(error))")
        }
        let rules = try (file.rules ?? []) + (file.providers ?? []).map { try $0.rule(origin: origin) }
        for rule in rules {
            // A rule without keywords runs on every buffer: only allowed when paths limit it to a
            // few files (a key store by name).
            if (rule.keywords.isEmpty && (rule.paths ?? []).isEmpty) || rule.keywords.contains(where: \.isEmpty) {
                throw RuleError("\(origin): rule \(rule.id): keywords must list at least one non-empty literal (or paths must limit the rule)")
            }
            if rule.keywordScope == .buffer && rule.keywordLead != nil {
                throw RuleError("\(origin): rule \(rule.id): keywordLead says the match starts at a keyword, keywordScope = \"buffer\" that it need not contain one: drop one")
            }
            if let check = rule.checksum, Checksums.named(check) == nil {
                throw RuleError("\(origin): rule \(rule.id): unknown checksum \"\(check)\" (known: \(Checksums.names.joined(separator: ", ")))")
            }
            if let check = rule.validate, Validators.named(check) == nil {
                throw RuleError("\(origin): rule \(rule.id): unknown validate \"\(check)\" (known: \(Validators.names.joined(separator: ", ")))")
            }
        }
        return rules
    }

    /// The rules built into the binary from `Rules/*.toml`.
    public static func defaultRules() throws -> [Rule] {
        try DefaultRuleFiles.all.flatMap { try parse($0.text, origin: "Rules/\($0.name)") }
    }

    /// The default rules plus the files given with `--rules`. An id defined twice is an error.
    public static func load(extraFiles: [String]) throws -> [Rule] {
        var rules = try defaultRules()
        for path in extraFiles {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw RuleError("\(path): cannot read rule file")
            }
            rules += try parse(text, origin: path)
        }
        var seen = Set<String>()
        for rule in rules where !seen.insert(rule.id).inserted {
            throw RuleError("rule id \(rule.id) is defined twice")
        }
        return rules
    }
}
