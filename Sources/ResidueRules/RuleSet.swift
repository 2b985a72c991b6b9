import Foundation

/// A rule ready to run: its regexes compiled.
public final class CompiledRule: @unchecked Sendable {
    public let rule: Rule
    let regex: CompiledRegex
    /// The same regex, anchored at the start offset: for rules that say where their match
    /// starts relative to their keyword (`keywordLead`).
    let anchored: CompiledRegex?
    let secretGroup: Int
    let pathFilters: [CompiledRegex]
    let allowPatterns: [CompiledRegex]
    let validator: ((String) -> Bool)?
    /// How far around a keyword's end a match of this rule can reach (see `Matcher`).
    let reach: (back: Int, forward: Int)
    /// A keyword anywhere in the buffer makes this rule search the whole buffer, as gitleaks
    /// does, instead of windows around the keyword: a rule that says `keywordScope = "buffer"`
    /// (its match need not contain its keyword), and a rule with keywords but no examples (a
    /// gitleaks rule, an inline rule), where nothing shows that its matches contain one.
    let searchesWholeBuffer: Bool
    /// `allowlists`, compiled (RuleSet+Allow.swift).
    let allowlists: [CompiledAllowlist]
    /// For binary files, rules with a vendor checksum only: the regex without its leading and
    /// trailing boundary assertions (and its anchored form). A compiled Go program stores its
    /// string constants back to back, so a token set with `-ldflags -X` touches the strings
    /// around it and fails the boundaries; there the checksum tells a token from a run of
    /// letters instead (matches found only this way must verify).
    let unbounded: (regex: CompiledRegex, anchored: CompiledRegex?)?

    init(_ rule: Rule) throws {
        self.rule = rule
        let origin = "rule \(rule.id)"
        regex = try CompiledRegex(rule.regex, caseInsensitive: rule.caseInsensitive ?? false, origin: origin)
        // A rule without keywords (limited by paths) has no keyword to anchor at: it searches the whole buffer.
        anchored = rule.keywordLead == nil || rule.keywords.isEmpty ? nil
            : try CompiledRegex(rule.regex, caseInsensitive: rule.caseInsensitive ?? false, anchored: true, origin: origin)
        secretGroup = rule.secretGroup ?? (regex.captureCount > 0 ? 1 : 0)
        // Found by fuzzing rule files: a negative secretGroup indexed the match groups out of
        // range, and a negative or huge keywordLead made an inverted or overflowing range.
        guard (0...regex.captureCount).contains(secretGroup) else {
            throw RuleError("\(origin): secretGroup \(secretGroup) but the regex has \(regex.captureCount) groups")
        }
        if let lead = rule.keywordLead, !(0...Matcher.maxBackReach).contains(lead) {
            throw RuleError("\(origin): keywordLead \(lead) must be between 0 and \(Matcher.maxBackReach)")
        }
        pathFilters = try (rule.paths ?? []).map { try CompiledRegex($0, origin: "\(origin) paths") }
        allowPatterns = try (rule.allow ?? []).map { try CompiledRegex($0, origin: "\(origin) allow") }
        validator = rule.validate.flatMap(Validators.named)
        let longest = RegexLength.maxLength(rule.regex)
        reach = (back: min(longest ?? Matcher.maxBackReach, Matcher.maxBackReach),
                 forward: min(longest ?? Matcher.maxForwardReach, Matcher.maxForwardReach) + Matcher.slack)
        searchesWholeBuffer = !rule.keywords.isEmpty && rule.keywordLead == nil
            && (rule.keywordScope == .buffer || (rule.examples ?? []).isEmpty)
        allowlists = try (rule.allowlists ?? []).map { try CompiledAllowlist($0, origin: origin) }
        if rule.checksum != nil, rule.searchesBinaries, let pattern = Self.withoutBoundaries(rule.regex) {
            let insensitive = rule.caseInsensitive ?? false
            unbounded = (try CompiledRegex(pattern, caseInsensitive: insensitive, origin: origin),
                         anchored == nil ? nil : try CompiledRegex(pattern, caseInsensitive: insensitive, anchored: true, origin: origin))
        } else {
            unbounded = nil
        }
    }

    /// `pattern` without a leading `(?<!…)` and a trailing `(?!…)` whose contents hold no
    /// parentheses (the boundary form the prefixed-token rules use); nil when it has neither.
    static func withoutBoundaries(_ pattern: String) -> String? {
        var result = pattern
        if result.hasPrefix("(?<!"), let close = result.firstIndex(of: ")"),
           !result[result.index(result.startIndex, offsetBy: 4)..<close].contains("(") {
            result = String(result[result.index(after: close)...])
        }
        if result.hasSuffix(")"), let open = result.range(of: "(?!", options: .backwards),
           !result[open.upperBound..<result.index(before: result.endIndex)].contains(where: { $0 == "(" || $0 == ")" }) {
            result = String(result[..<open.lowerBound])
        }
        return result == pattern ? nil : result
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

/// All rules, compiled, with the keyword automata over all their keywords. Immutable and
/// shared by every thread.
public final class RuleSet: @unchecked Sendable {
    public let rules: [CompiledRule]
    /// Every rule's keywords (text, config values, history lines).
    let text: KeywordIndex
    /// Only the keywords of the rules that search binary files (key blocks): fewer states,
    /// fewer hits in the bytes of executables and libraries.
    let binary: KeywordIndex
    /// Rules limited by paths (with or without keywords): they search every buffer their paths
    /// allow, whole, when one of their keywords occurs in it (or always, without keywords). Their
    /// keywords stay out of the shared pass: a `.pgpass` rule's ":" would otherwise be a hit at
    /// every colon of every file.
    let pathScoped: [Int]
    /// For each rule in `pathScoped` (same order): its own keywords, lowercased bytes (searched
    /// directly: only in the few files the rule's paths allow).
    let pathScopedKeywords: [[[UInt8]]]
    /// The path-scoped rules' path patterns in one Hyperscan database (id: slot in
    /// `pathScoped`); nil if Hyperscan cannot compile one of them (PCRE2 alone then). Compiled
    /// on first use: a rescan answered by the cache never matches a path, and compiling costs
    /// 20 ms of its 0.2 s.
    var pathPatterns: PatternSet? { lazyPathPatterns.value }
    private let lazyPathPatterns: Lazy<PatternSet?>

    private let byID: [String: CompiledRule]

    public init(_ rules: [Rule]) throws {
        self.rules = try rules.map(CompiledRule.init)
        byID = Dictionary(self.rules.map { ($0.rule.id, $0) }, uniquingKeysWith: { first, _ in first })
        text = KeywordIndex(rules: rules, including: { !$0.isPathScoped })
        binary = KeywordIndex(rules: rules, including: { $0.searchesBinaries && !$0.isPathScoped })
        pathScoped = rules.indices.filter { rules[$0].isPathScoped }
        pathScopedKeywords = pathScoped.map { rules[$0].keywords.map { Array($0.lowercased().utf8) } }
        let scopes = pathScoped.enumerated().flatMap { slot, rule in (rules[rule].paths ?? []).map { (pattern: $0, slot: slot) } }
        lazyPathPatterns = Lazy { PatternSet(patterns: scopes.map(\.pattern), ids: scopes.map(\.slot)) }
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

/// One keyword automaton and, for each of its accepting states, the rules whose keywords end
/// there.
struct KeywordIndex: Sendable {
    let automaton: KeywordScanner
    /// accepting state → rule indices (each once).
    let rulesForState: [[Int32]]
    /// accepting state → the shortest and longest keyword that ends there.
    let keywordLengths: [(shortest: Int, longest: Int)]

    init(rules: [Rule], including: (Rule) -> Bool) {
        var keywordIDs: [String: Int] = [:]
        var keywords: [String] = []
        var rulesForKeyword: [[Int32]] = []
        for (ruleIndex, rule) in rules.enumerated() where including(rule) {
            for keyword in Set(rule.keywords.map { $0.lowercased() }) {
                if let id = keywordIDs[keyword] {
                    rulesForKeyword[id].append(Int32(ruleIndex))
                } else {
                    keywordIDs[keyword] = keywords.count
                    keywords.append(keyword)
                    rulesForKeyword.append([Int32(ruleIndex)])
                }
            }
        }
        let automaton = KeywordScanner(keywords: keywords)
        self.automaton = automaton
        var rulesForState: [[Int32]] = []
        var keywordLengths: [(shortest: Int, longest: Int)] = []
        var state: Int32 = 0
        while true {
            // Accepting states are numbered 0..<n in the automaton's outputs.
            guard let ids = automaton.keywordsIfAccepting(state) else { break }
            rulesForState.append(Array(Set(ids.flatMap { rulesForKeyword[Int($0)] })).sorted())
            let lengths = ids.map { automaton.keywordLengths[Int($0)] }
            keywordLengths.append((lengths.min() ?? 0, lengths.max() ?? 0))
            state += 1
        }
        self.rulesForState = rulesForState
        self.keywordLengths = keywordLengths
    }
}

/// Scans buffers with a rule set. Holds per-thread PCRE2 state: make one per thread.
///
/// One pass of the keyword automaton finds where every rule's keywords end; each triggered
/// rule's regex then runs only near those places, never over the whole buffer:
/// - a rule with `keywordLead = N` (its match starts at most N bytes before its keyword) tries
///   an anchored match at each of those N + 1 positions;
/// - any other rule searches windows `[end − reach, end + reach + slack)` around each keyword
///   end, merged when they overlap, where `reach` is the longest match its regex can produce
///   (`RegexLength`, capped for unbounded patterns).
/// - a rule without keywords (limited by paths) searches the whole buffer; so does a rule with
///   `keywordScope = "buffer"` or without examples (a gitleaks rule: nothing shows its match
///   contains its keyword) when one of its keywords occurs.
/// Otherwise a match always contains one of its rule's keywords (the rule tests check each example
/// both ways), so it is found by both: the result is the one a search over the whole buffer
/// gives, leftmost first, without overlaps. Allowlists (a whole file by path, or one match)
/// apply in both.
public final class Matcher {
    public let ruleSet: RuleSet
    let state = MatchState()

    /// How many regex searches the PCRE2 limits have stopped so far (see `MatchState.limitHits`).
    public var regexLimitHits: Int { state.limitHits }
    private let hits = KeywordHits()
    /// Per rule, for the current buffer (reused): where to look — merged windows, or for
    /// anchored rules, merged ranges of start positions to try.
    private var spans: [[Range<Int>]]
    private var touched: [Int] = []
    /// Per rule: 1 eligible, 0 not decided yet for this buffer, -1 excluded (binary, path, allowlisted path).
    private var eligible: [Int8]
    private var lastPath: String?
    /// The buffer being scanned is a binary file (see `CompiledRule.unbounded`).
    private var scanningBinary = false
    private var lastPathScoped: [(Int, Int)] = []

    /// How far before a keyword's end a match may start, at most (unbounded patterns).
    static let maxBackReach = 4096
    /// How far after a keyword's end a match may end, at most (unbounded patterns; a secret is
    /// never longer than a window's overlap anyway).
    static let maxForwardReach = 64 << 10
    /// Room for lookaheads past the longest match; a match that ends this close to a cut
    /// window is searched again over the whole buffer.
    static let slack = 256

    public init(_ ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        spans = Array(repeating: [], count: ruleSet.rules.count)
        eligible = Array(repeating: 0, count: ruleSet.rules.count)
    }

    /// Finds the secrets in `bytes`. `path` selects the rules restricted to file kinds (nil: a
    /// config value or history line, where path-restricted rules do not apply); `binary` limits
    /// the search to the rules that look for keys in binary formats.
    public func scan(_ bytes: UnsafeRawBufferPointer, path: String?, binary: Bool = false) -> [RuleMatch] {
        let index = binary ? ruleSet.binary : ruleSet.text
        scanningBinary = binary
        index.automaton.scan(bytes, into: hits)
        let scoped = pathScopedRules(for: path)
        if hits.count == 0 && !hits.overflowed && scoped.isEmpty { return [] }
        for rule in touched { spans[rule].removeAll(keepingCapacity: true); eligible[rule] = 0 }
        touched.removeAll(keepingCapacity: true)

        if hits.overflowed {
            // Too many hits to list: every rule whose keyword occurs searches the whole buffer.
            var found = [Bool](repeating: false, count: index.automaton.keywordCount)
            index.automaton.scan(bytes, found: &found, scratch: hits)
            for (state, rules) in index.rulesForState.enumerated() {
                guard index.automaton.keywordsIfAccepting(Int32(state))!.contains(where: { found[Int($0)] }) else { continue }
                for rule in rules { _ = isEligible(Int(rule), path: path, binary: binary) }
            }
            for (slot, rule) in scoped where isEligible(rule, path: path, binary: binary) {
                if !keywordsOccur(slot, rule, in: bytes) { eligible[rule] = -1 }
            }
            var matches: [RuleMatch] = []
            touched.sort()
            for rule in touched where eligible[rule] > 0 {
                _ = search(ruleSet.rules[rule], index: rule, in: bytes, window: 0..<bytes.count, path: path, into: &matches)
            }
            return Self.preferSpecific(matches, rules: ruleSet.rules)
        }
        hits.forEach { end, state in
            for rule in index.rulesForState[Int(state)] where isEligible(Int(rule), path: path, binary: binary) {
                add(Int(rule), end: end, state: state, index: index, count: bytes.count)
            }
        }
        for (slot, rule) in scoped where isEligible(rule, path: path, binary: binary) && keywordsOccur(slot, rule, in: bytes) {
            spans[rule] = [0..<bytes.count]
        }
        touched.sort()
        var matches: [RuleMatch] = []
        for rule in touched where eligible[rule] > 0 && !spans[rule].isEmpty {
            confirm(rule, spans: spans[rule], in: bytes, path: path, into: &matches)
        }
        return Self.preferSpecific(matches, rules: ruleSet.rules)
    }

    /// The path-scoped rules (slot in `RuleSet.pathScoped`, rule index) whose paths allow
    /// `path`, remembered for the last path (a large file is scanned window by window).
    private func pathScopedRules(for path: String?) -> [(Int, Int)] {
        guard let path else { return [] }
        if path == lastPath { return lastPathScoped }
        lastPath = path
        // Hyperscan says which rules' patterns may match; PCRE2 (the rules' own engine) decides.
        let candidates = ruleSet.pathPatterns?.matches(path, scratch: hits) ?? nil
        if candidates?.isEmpty == true {
            lastPathScoped = []
            return lastPathScoped
        }
        lastPathScoped = ruleSet.pathScoped.enumerated().filter { slot, rule in
            candidates.map { $0.contains(slot) } ?? true
        }.filter { _, rule in
            ruleSet.rules[rule].pathFilters.contains { state.matches($0, path) }
        }
        return lastPathScoped
    }

    /// Whether one of a path-scoped rule's keywords occurs in `bytes`, ASCII case folded (a rule
    /// without keywords: always).
    private func keywordsOccur(_ slot: Int, _ rule: Int, in bytes: UnsafeRawBufferPointer) -> Bool {
        let keywords = ruleSet.pathScopedKeywords[slot]
        if keywords.isEmpty { return true }
        @inline(__always) func fold(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte | 0x20 : byte }
        for keyword in keywords where !keyword.isEmpty && keyword.count <= bytes.count {
            let first = keyword[0]
            var index = 0
            while index <= bytes.count - keyword.count {
                if fold(bytes[index]) == first {
                    var offset = 1
                    while offset < keyword.count && fold(bytes[index + offset]) == keyword[offset] { offset += 1 }
                    if offset == keyword.count { return true }
                }
                index += 1
            }
        }
        return false
    }

    @inline(__always)
    private func isEligible(_ rule: Int, path: String?, binary: Bool) -> Bool {
        if eligible[rule] == 0 {
            touched.append(rule)
            let compiled = ruleSet.rules[rule]
            var ok = !(binary && !compiled.rule.searchesBinaries)
            if ok, !compiled.pathFilters.isEmpty {
                ok = path.map { path in compiled.pathFilters.contains { state.matches($0, path) } } ?? false
            }
            // An allowlist that lets every match in this file go (by path alone).
            if ok, let path, compiled.allowlists.contains(where: { $0.allowsWholeFile(path, state: state) }) { ok = false }
            eligible[rule] = ok ? 1 : -1
        }
        return eligible[rule] > 0
    }

    /// The span a keyword hit (ending at `end`, in accepting `state`) asks `rule` to look at.
    @inline(__always)
    private func add(_ rule: Int, end: Int, state: Int32, index: KeywordIndex, count: Int) {
        let compiled = ruleSet.rules[rule]
        let after = end + 1
        let span: Range<Int>
        var gap = 256
        if let lead = compiled.rule.keywordLead, compiled.anchored != nil {
            let lengths = index.keywordLengths[Int(state)]
            span = max(0, after - lengths.longest - lead)..<(after - lengths.shortest + 1)
            gap = 0
        } else if compiled.searchesWholeBuffer {
            span = 0..<count
        } else {
            span = max(0, after - compiled.reach.back)..<min(count, after + compiled.reach.forward)
        }
        Self.merge(span, into: &spans[rule], gap: gap)
    }

    @inline(__always)
    static func merge(_ span: Range<Int>, into list: inout [Range<Int>], gap: Int) {
        if let last = list.last, span.lowerBound <= last.upperBound + gap {
            if span.upperBound > last.upperBound || span.lowerBound < last.lowerBound {
                list[list.count - 1] = min(last.lowerBound, span.lowerBound)..<max(last.upperBound, span.upperBound)
            }
        } else {
            list.append(span)
        }
    }

    /// Runs one rule over its spans, leftmost match first, no overlaps. In a binary file, a rule
    /// with a checksum runs again without its boundaries, keeping what verifies and is new.
    private func confirm(_ rule: Int, spans: [Range<Int>], in bytes: UnsafeRawBufferPointer, path: String?,
                         into matches: inout [RuleMatch]) {
        let compiled = ruleSet.rules[rule]
        confirm(rule, regex: compiled.regex, anchored: compiled.anchored, spans: spans, in: bytes, path: path, into: &matches)
        guard scanningBinary, let unbounded = compiled.unbounded else { return }
        var extra: [RuleMatch] = []
        confirm(rule, regex: unbounded.regex, anchored: unbounded.anchored, spans: spans, in: bytes, path: path,
                checksumOnly: true, into: &extra)
        for match in extra where !matches.contains(where: { $0.ruleIndex == rule && $0.secretRange.overlaps(match.secretRange) }) {
            matches.append(match)
        }
    }

    private func confirm(_ rule: Int, regex: CompiledRegex, anchored: CompiledRegex?, spans: [Range<Int>],
                         in bytes: UnsafeRawBufferPointer, path: String?, checksumOnly: Bool = false,
                         into matches: inout [RuleMatch]) {
        let compiled = ruleSet.rules[rule]
        var cursor = 0
        if let anchored {
            var spans = spans
            if zip(spans, spans.dropFirst()).contains(where: { $0.lowerBound > $1.lowerBound }) {
                var sorted: [Range<Int>] = []
                for span in spans.sorted(by: { $0.lowerBound < $1.lowerBound }) { Self.merge(span, into: &sorted, gap: 0) }
                spans = sorted
            }
            for span in spans {
                var position = max(span.lowerBound, cursor)
                while position < span.upperBound, position <= bytes.count {
                    if let groups = anchoredMatch(anchored, reach: compiled.reach.forward, in: bytes, at: position) {
                        cursor = accept(compiled, index: rule, groups, in: bytes, path: path, checksumOnly: checksumOnly, into: &matches)
                        position = max(position + 1, cursor)
                    } else {
                        position += 1
                    }
                }
            }
            return
        }
        for window in spans where window.upperBound > cursor {
            cursor = search(compiled, regex: regex, index: rule, in: bytes, window: max(cursor, window.lowerBound)..<window.upperBound,
                            path: path, checksumOnly: checksumOnly, into: &matches)
        }
    }

    /// An anchored match at `position`, with the subject cut `reach` bytes later (the longest
    /// match plus room for lookarounds). Without the cut, PCRE2's JIT looks for the pattern's
    /// required last byte (`@` in `scheme://user:pass@`) through the rest of a 4 MiB window at
    /// every hit, which made `url-credentials` the costliest rule. A match ending that close to
    /// the cut is tried again on the whole buffer, as window searches do.
    @inline(__always)
    private func anchoredMatch(_ regex: CompiledRegex, reach: Int, in bytes: UnsafeRawBufferPointer, at position: Int) -> [Range<Int>?]? {
        let cut = position + reach
        guard cut < bytes.count else { return state.firstMatch(regex, in: bytes, from: position) }
        guard let groups = state.firstMatch(regex, in: bytes, length: cut, from: position) else { return nil }
        if let whole = groups[0], whole.upperBound + Self.slack > cut {
            return state.firstMatch(regex, in: bytes, from: position)
        }
        return groups
    }

    /// Runs one rule over the whole buffer, ignoring its keywords and paths (rule tests).
    public func run(ruleAt index: Int, on bytes: UnsafeRawBufferPointer) -> [RuleMatch] {
        var results: [RuleMatch] = []
        _ = search(ruleSet.rules[index], index: index, in: bytes, window: 0..<bytes.count, path: nil, into: &results)
        return results
    }

    /// Runs one rule only near its keywords, as `scan` does, ignoring its paths (rule tests:
    /// the result must equal `run(ruleAt:on:)`).
    public func runAroundKeywords(ruleAt rule: Int, on bytes: UnsafeRawBufferPointer) -> [RuleMatch] {
        let index = ruleSet.text
        index.automaton.scan(bytes, into: hits)
        for other in touched { spans[other].removeAll(keepingCapacity: true); eligible[other] = 0 }
        touched.removeAll(keepingCapacity: true)
        var results: [RuleMatch] = []
        if hits.overflowed { return run(ruleAt: rule, on: bytes) }
        hits.forEach { end, state in
            guard index.rulesForState[Int(state)].contains(Int32(rule)) else { return }
            add(rule, end: end, state: state, index: index, count: bytes.count)
        }
        if let slot = ruleSet.pathScoped.firstIndex(of: rule) {
            // Path-scoped rules are not in the shared pass: the whole buffer, if a keyword occurs.
            spans[rule] = keywordsOccur(slot, rule, in: bytes) ? [0..<bytes.count] : []
        }
        confirm(rule, spans: spans[rule], in: bytes, path: nil, into: &results)
        spans[rule].removeAll(keepingCapacity: true)
        return results
    }

    /// Finds the rule's matches that start in `window` (the subject is cut at the window's end,
    /// and searched again whole when a match comes too close to that cut). Returns where the
    /// next search may start.
    private func search(_ compiled: CompiledRule, regex: CompiledRegex? = nil, index: Int, in bytes: UnsafeRawBufferPointer,
                        window: Range<Int>, path: String?, checksumOnly: Bool = false, into results: inout [RuleMatch]) -> Int {
        let regex = regex ?? compiled.regex
        let end = window.upperBound
        let truncated = end < bytes.count
        var start = window.lowerBound
        while start <= end, start <= bytes.count {
            guard var groups = state.firstMatch(regex, in: bytes, length: end, from: start) else {
                return truncated ? max(start, end - compiled.reach.forward) : bytes.count + 1
            }
            if truncated, let whole = groups[0], whole.upperBound + Self.slack > end {
                guard let again = state.firstMatch(regex, in: bytes, length: bytes.count, from: start) else {
                    return bytes.count + 1
                }
                groups = again
            }
            start = accept(compiled, index: index, groups, in: bytes, path: path, checksumOnly: checksumOnly, into: &results)
        }
        return start
    }

    /// Records a regex match if its secret passes the rule's checks; returns where the next
    /// search starts (after the match).
    private func accept(_ compiled: CompiledRule, index: Int, _ groups: [Range<Int>?], in bytes: UnsafeRawBufferPointer,
                        path: String?, checksumOnly: Bool = false, into results: inout [RuleMatch]) -> Int {
        guard let whole = groups[0] else { return bytes.count + 1 }
        let next = whole.upperBound > whole.lowerBound ? whole.upperBound : whole.upperBound + 1
        guard let secretRange = groups[compiled.secretGroup], !secretRange.isEmpty else { return next }
        let secretBytes = UnsafeRawBufferPointer(rebasing: bytes[secretRange])
        if let minimum = compiled.rule.entropy, SecretValues.entropy(secretBytes) < minimum { return next }
        let secret = String(decoding: secretBytes, as: UTF8.self)
        if compiled.allowPatterns.contains(where: { state.matches($0, secret) }) { return next }
        if !compiled.allowlists.isEmpty, isAllowed(compiled, secret: secret, match: whole, in: bytes, path: path) { return next }
        if let validator = compiled.validator, !validator(secret) { return next }
        // A generic rule has no proof of its own: the text's syntax must say the secret is a value.
        if compiled.rule.isGeneric, !AssignmentSyntax.isValue(bytes, secret: secretRange, kind: TextKind.of(path: path)) { return next }
        if checksumOnly, compiled.rule.checksum.flatMap(Checksums.named).map({ $0(secret) }) != .valid { return next }
        results.append(RuleMatch(ruleIndex: index, secretRange: secretRange, matchRange: whole, secret: secret))
        return next
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


/// A value made on first use, once, by whichever thread asks first.
final class Lazy<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var made: Value?
    private var make: (() -> Value)?

    init(_ make: @escaping () -> Value) { self.make = make }

    var value: Value {
        lock.withLock {
            if let made { return made }
            let value = make!()
            made = value
            make = nil
            return value
        }
    }
}
