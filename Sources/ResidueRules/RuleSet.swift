import Foundation

/// A rule ready to run: its regexes compiled.
public final class CompiledRule: @unchecked Sendable {
    public let rule: Rule
    let regex: CompiledRegex
    let secretGroup: Int
    let pathFilters: [CompiledRegex]
    let allowPatterns: [CompiledRegex]
    let validator: ((String) -> Bool)?
    /// `allowlists`, compiled (RuleSet+Allow.swift).
    let allowlists: [CompiledAllowlist]

    init(_ rule: Rule) throws {
        self.rule = rule
        let origin = "rule \(rule.id)"
        regex = try CompiledRegex(rule.regex, caseInsensitive: rule.caseInsensitive ?? false, origin: origin)
        secretGroup = rule.secretGroup ?? (regex.captureCount > 0 ? 1 : 0)
        guard secretGroup <= regex.captureCount else {
            throw RuleError("\(origin): secretGroup \(secretGroup) but the regex has \(regex.captureCount) groups")
        }
        pathFilters = try (rule.paths ?? []).map { try CompiledRegex($0, origin: "\(origin) paths") }
        allowPatterns = try (rule.allow ?? []).map { try CompiledRegex($0, origin: "\(origin) allow") }
        validator = rule.validate.flatMap(Validators.named)
        allowlists = try (rule.allowlists ?? []).map { try CompiledAllowlist($0, origin: origin) }
    }
}

/// One secret a rule found in a buffer.
public struct RuleMatch: Sendable, Equatable {
    public let ruleIndex: Int
    /// Byte range of the secret in the scanned buffer.
    public let secretRange: Range<Int>
    /// Byte range of the whole match.
    public let matchRange: Range<Int>
    public let secret: String
}

/// All rules, compiled, with the keyword automaton over all their keywords. Immutable and
/// shared by every thread.
public final class RuleSet: @unchecked Sendable {
    public let rules: [CompiledRule]
    let automaton: KeywordAutomaton
    /// keyword id → rule indices that listed it.
    let rulesForKeyword: [[Int]]
    /// Rules without keywords (limited by paths instead): they run on every buffer their paths allow.
    let keywordless: [Int]

    private let byID: [String: CompiledRule]

    public init(_ rules: [Rule]) throws {
        self.rules = try rules.map(CompiledRule.init)
        byID = Dictionary(self.rules.map { ($0.rule.id, $0) }, uniquingKeysWith: { first, _ in first })
        var keywordIDs: [String: Int] = [:]
        var keywords: [String] = []
        var rulesForKeyword: [[Int]] = []
        for (ruleIndex, rule) in rules.enumerated() {
            for keyword in Set(rule.keywords.map { $0.lowercased() }) {
                if let id = keywordIDs[keyword] {
                    rulesForKeyword[id].append(ruleIndex)
                } else {
                    keywordIDs[keyword] = keywords.count
                    keywords.append(keyword)
                    rulesForKeyword.append([ruleIndex])
                }
            }
        }
        automaton = KeywordAutomaton(keywords: keywords)
        self.rulesForKeyword = rulesForKeyword
        keywordless = rules.indices.filter { rules[$0].keywords.isEmpty }
    }

    public static func defaults(extraFiles: [String] = []) throws -> RuleSet {
        try RuleSet(RuleLoader.load(extraFiles: extraFiles))
    }

    public func rule(id: String) -> CompiledRule? { byID[id] }

    /// A stable identity of the rule set (for caches and reports).
    public var version: String {
        var text = ""
        for compiled in rules { text += compiled.rule.id + "\u{0}" + compiled.rule.regex + "\u{0}" }
        return String(text.utf8.reduce(UInt64(14695981039346656037)) { ($0 ^ UInt64($1)) &* 1099511628211 }, radix: 16)
    }
}

/// Scans buffers with a rule set. Holds per-thread PCRE2 state: make one per thread.
public final class Matcher {
    public let ruleSet: RuleSet
    let state = MatchState()
    private var keywordHits: [Bool]
    private var ruleHits: [Bool]

    public init(_ ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        keywordHits = [Bool](repeating: false, count: ruleSet.automaton.keywordCount)
        ruleHits = [Bool](repeating: false, count: ruleSet.rules.count)
    }

    /// Finds the secrets in `bytes`. `path` selects the rules restricted to file kinds (nil: a
    /// config value or history line, where path-restricted rules do not apply); `binary` limits
    /// the search to the rules that look for keys in binary formats.
    public func scan(_ bytes: UnsafeRawBufferPointer, path: String?, binary: Bool = false) -> [RuleMatch] {
        for index in keywordHits.indices { keywordHits[index] = false }
        ruleSet.automaton.scan(bytes, found: &keywordHits)
        for index in ruleHits.indices { ruleHits[index] = false }
        var any = false
        for (keyword, hit) in keywordHits.enumerated() where hit {
            for rule in ruleSet.rulesForKeyword[keyword] { ruleHits[rule] = true; any = true }
        }
        for rule in ruleSet.keywordless { ruleHits[rule] = true; any = true }
        guard any else { return [] }
        var matches: [RuleMatch] = []
        for (index, hit) in ruleHits.enumerated() where hit {
            let compiled = ruleSet.rules[index]
            if binary && !compiled.rule.searchesBinaries { continue }
            if !compiled.pathFilters.isEmpty {
                guard let path, compiled.pathFilters.contains(where: { state.matches($0, path) }) else { continue }
            }
            if let path, compiled.allowlists.contains(where: { $0.allowsWholeFile(path, state: state) }) { continue }
            matches += run(compiled, index: index, in: bytes, path: path)
        }
        return Self.preferSpecific(matches, rules: ruleSet.rules)
    }

    /// Runs one rule over the whole buffer, ignoring its keywords and paths (rule tests).
    public func run(ruleAt index: Int, on bytes: UnsafeRawBufferPointer) -> [RuleMatch] {
        run(ruleSet.rules[index], index: index, in: bytes)
    }

    private func run(_ compiled: CompiledRule, index: Int, in bytes: UnsafeRawBufferPointer, path: String? = nil) -> [RuleMatch] {
        var results: [RuleMatch] = []
        var start = 0
        while start <= bytes.count, let groups = state.firstMatch(compiled.regex, in: bytes, from: start) {
            guard let whole = groups[0] else { break }
            start = whole.upperBound > whole.lowerBound ? whole.upperBound : whole.upperBound + 1
            guard let secretRange = groups[compiled.secretGroup], !secretRange.isEmpty else { continue }
            let secretBytes = UnsafeRawBufferPointer(rebasing: bytes[secretRange])
            if let minimum = compiled.rule.entropy, SecretValues.entropy(secretBytes) < minimum { continue }
            let secret = String(decoding: secretBytes, as: UTF8.self)
            if compiled.allowPatterns.contains(where: { state.matches($0, secret) }) { continue }
            if !compiled.allowlists.isEmpty, isAllowed(compiled, secret: secret, match: whole, in: bytes, path: path) { continue }
            if let validator = compiled.validator, !validator(secret) { continue }
            results.append(RuleMatch(ruleIndex: index, secretRange: secretRange, matchRange: whole, secret: secret))
        }
        return results
    }

    /// Where a specific rule and a generic one found overlapping secrets, the specific one wins.
    static func preferSpecific(_ matches: [RuleMatch], rules: [CompiledRule]) -> [RuleMatch] {
        let specific = matches.filter { !rules[$0.ruleIndex].rule.isGeneric }
        guard specific.count < matches.count, !specific.isEmpty else { return matches }
        return matches.filter { match in
            !rules[match.ruleIndex].rule.isGeneric
                || !specific.contains { $0.secretRange.overlaps(match.secretRange) }
        }
    }
}

extension Matcher {
    /// Convenience for strings (config values, history lines).
    public func scan(text: String, path: String? = nil) -> [RuleMatch] {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { scan(UnsafeRawBufferPointer($0), path: path) }
    }
}
