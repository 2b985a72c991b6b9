import Foundation
import TOMLKit

/// Reads a gitleaks configuration (`[[rules]]` with id, description, regex, secretGroup,
/// entropy, keywords, path, `[rules.allowlist]` / `[[rules.allowlists]]`, and the global
/// `[allowlist]` / `[[allowlists]]`) as residue rules, so a team's existing rules work with
/// `--rules` unchanged. gitleaks' regexes are Go RE2; `translate(re2:)` rewrites what PCRE2
/// reads differently. A rule that does not compile is an error naming the file and the rule.
public enum GitleaksConfig {
    struct File: Decodable {
        var title: String?
        var rules: [GitleaksRule]?
        var allowlist: GitleaksAllowlist?
        var allowlists: [GitleaksAllowlist]?
    }

    struct GitleaksRule: Decodable {
        var id: String
        var description: String?
        var regex: String?
        var secretGroup: Int?
        var entropy: Number?
        var keywords: [String]?
        var path: String?
        var tags: [String]?
        var allowlist: GitleaksAllowlist?
        var allowlists: [GitleaksAllowlist]?
    }

    struct GitleaksAllowlist: Decodable {
        var description: String?
        var regexTarget: String?
        var regexes: [String]?
        var paths: [String]?
        var stopwords: [String]?
        var commits: [String]?
        var condition: String?
        var targetRules: [String]?
    }

    /// TOML writes `entropy = 3` and `entropy = 3.5`; both are numbers here.
    struct Number: Decodable {
        var value: Double
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let double = try? container.decode(Double.self) { value = double } else { value = Double(try container.decode(Int.self)) }
        }
    }

    /// A rule file is gitleaks' when it has rules or gitleaks' tables (`[allowlist]`, `[extend]`,
    /// `[[rules.allowlists]]`…) and no `severity` anywhere (residue requires one on every rule).
    public static func looksLikeGitleaks(_ text: String) -> Bool {
        var hasRules = false, hasSeverity = false, hasGitleaksTable = false
        let gitleaksTables = ["[allowlist]", "[[allowlists]]", "[extend]", "[rules.allowlist]", "[[rules.allowlists]]"].map { Array($0.utf8) }
        var text = text
        text.withUTF8 { bytes in   // bytes, not Characters: it runs on every rule file at every start
            func starts(_ prefix: [UInt8], at index: Int) -> Bool {
                index + prefix.count <= bytes.count && zip(prefix, bytes[index...]).allSatisfy { $0 == $1 }
            }
            let rules = Array("[[rules]]".utf8), severity = Array("severity".utf8)
            var lineStart = true
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") { lineStart = true; index += 1; continue }
                if lineStart && (byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")) { index += 1; continue }
                if lineStart {
                    if starts(rules, at: index) { hasRules = true }
                    if starts(severity, at: index) { hasSeverity = true }
                    if gitleaksTables.contains(where: { starts($0, at: index) }) { hasGitleaksTable = true }
                    lineStart = false
                }
                index += 1
            }
        }
        // residue's own rules may carry `[[rules.allowlists]]` too: a `severity` says whose file it is.
        return (hasGitleaksTable || hasRules) && !hasSeverity
    }

    public static func translate(_ text: String, origin: String) throws -> [Rule] {
        let file: File
        do {
            try TOMLGuard.check(text, origin: origin)
            file = try TOMLDecoder().decode(File.self, from: text)
        } catch let error as TOMLParseError {
            throw RuleError("\(origin): line \(error.source.begin.line): \(error.description)")
        } catch {
            throw RuleError("\(origin): not a gitleaks configuration: \(error)")
        }
        let global = (file.allowlist.map { [$0] } ?? []) + (file.allowlists ?? [])
        var rules: [Rule] = []
        for source in file.rules ?? [] {
            let where_ = "\(origin): rule \(source.id) (gitleaks)"
            do { rules.append(try rule(source, global: global, where_: where_)) } catch let error as RuleError where !error.message.hasPrefix(origin) {
                throw RuleError("\(where_): \(error.message)")
            }
        }
        return rules
    }

    static func rule(_ source: GitleaksRule, global: [GitleaksAllowlist], where_: String) throws -> Rule {
        do {
            var regex: String
            var keywords = (source.keywords ?? []).filter { !$0.isEmpty }
            var paths: [String]? = nil
            if let path = source.path, !path.isEmpty {
                paths = [try translate(re2: path)]
            }
            if let pattern = source.regex, !pattern.isEmpty {
                regex = try translate(re2: pattern)
            } else if paths != nil {
                // A path-only rule reports the file itself: the "secret" is its first bytes.
                regex = #"\A([\s\S]{1,32})"#
                keywords = []
            } else {
                throw RuleError("\(where_): has neither regex nor path")
            }
            do {
                _ = try CompiledRegex(regex, origin: where_)
                for path in paths ?? [] { _ = try CompiledRegex(path, origin: "\(where_) path") }
            } catch let error as RuleError {
                throw RuleError("\(error.message) (translated from RE2: \(source.regex ?? source.path ?? ""))")
            }
            var lists = (source.allowlist.map { [$0] } ?? []) + (source.allowlists ?? [])
            lists += global.filter { $0.targetRules == nil || $0.targetRules!.contains(source.id) }
            let allowlists = try lists.map { list -> Rule.Allowlist in
                let target: Rule.Allowlist.Target
                switch (list.regexTarget ?? "secret").lowercased() {
                case "secret", "": target = .secret
                case "match": target = .match
                case "line": target = .line
                default: throw RuleError("\(where_): allowlist regexTarget must be secret, match or line, not \(list.regexTarget!)")
                }
                return Rule.Allowlist(regexes: try list.regexes?.map(translate(re2:)), target: target,
                                      paths: try list.paths?.map(translate(re2:)), stopwords: list.stopwords,
                                      condition: list.condition)
            }.filter { ($0.regexes ?? []).count + ($0.paths ?? []).count + ($0.stopwords ?? []).count > 0 }
            // gitleaks reports the first capture group when secretGroup is unset (0), as residue does.
            let group = source.secretGroup.flatMap { $0 > 0 ? $0 : nil }
            return Rule(
                id: source.id, title: source.description ?? source.id, severity: .medium, regex: regex,
                secretGroup: group, keywords: keywords, entropy: source.entropy?.value, caseInsensitive: nil,
                paths: paths, allow: nil, binary: nil, generic: nil, validate: nil,
                // gitleaks runs a rule wherever its keyword is in the file, not only near it.
                keywordScope: keywords.isEmpty ? nil : .buffer, confidence: nil, checksum: nil,
                allowlists: allowlists.isEmpty ? nil : allowlists, publicSamples: nil, contextual: nil, examples: nil, counterExamples: nil)
        }
    }

    /// Rewrites a Go RE2 pattern for PCRE2. The two dialects agree on nearly all of RE2
    /// (`(?i)` anywhere, `(?P<name>…)`, `\z`, `\Q…\E`, POSIX classes, `\pL`); what differs:
    /// - `$` outside a class is the end of the text in RE2 unless `(?m)` is set, while PCRE2's
    ///   also matches before a final newline: it becomes `\z` when the pattern sets no `m` flag;
    /// - `\C` (any byte) becomes `[\x00-\xff]`;
    /// - `\x{…}` above 0xFF (RE2 is UTF-8) cannot be matched byte-wise: an error names it;
    /// - RE2 has no possessive quantifiers, lookaround or backreferences, so nothing to undo.
    public static func translate(re2 pattern: String) throws -> String {
        let chars = Array(pattern)
        let multiline = pattern.range(of: #"\(\?[a-zA-Z]*m"#, options: .regularExpression) != nil
        var out = ""
        var index = 0
        var inClass = false
        while index < chars.count {
            let c = chars[index]
            if c == "\\", index + 1 < chars.count {
                let next = chars[index + 1]
                if next == "C" && !inClass { out += #"[\x00-\xff]"#; index += 2; continue }
                if next == "x", index + 2 < chars.count, chars[index + 2] == "{" {
                    if let close = chars[(index + 3)...].firstIndex(of: "}"),
                       let value = UInt32(String(chars[(index + 3)..<close]), radix: 16), value > 0xFF {
                        throw RuleError("\\x{\(String(chars[(index + 3)..<close]))} is beyond one byte; residue matches bytes (write the UTF-8 bytes instead)")
                    }
                }
                out.append(c); out.append(next); index += 2; continue
            }
            if inClass {
                if c == "]" { inClass = false }
                if c == "[", index + 1 < chars.count, chars[index + 1] == ":" {
                    // POSIX class inside a class: copy through its closing ":]".
                    if let end = pattern.range(of: ":]", range: pattern.index(pattern.startIndex, offsetBy: index + 2)..<pattern.endIndex) {
                        let endOffset = pattern.distance(from: pattern.startIndex, to: end.upperBound)
                        out += String(chars[index..<endOffset]); index = endOffset; continue
                    }
                }
                out.append(c); index += 1; continue
            }
            if c == "[" {
                inClass = true
                out.append(c); index += 1
                // A leading ^ and a leading ] are part of the class syntax.
                if index < chars.count, chars[index] == "^" { out.append("^"); index += 1 }
                if index < chars.count, chars[index] == "]" { out.append("]"); index += 1 }
                continue
            }
            if c == "$" && !multiline { out += #"\z"#; index += 1; continue }
            out.append(c); index += 1
        }
        return out
    }
}
