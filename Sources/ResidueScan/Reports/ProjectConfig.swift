import Foundation
import ResidueRules
import TOMLKit

/// A project's `.residue.toml`: which rules run, the thresholds, what is allowed and why, and
/// what the git pre-push hook checks. Every allowlist entry must say why (`reason`): an
/// exception nobody can explain later is a leak nobody looks at again.
///
/// ```toml
/// fail-on = "high"                  # default of --fail-on
/// min-severity = "medium"           # findings below are counted as suppressed, not reported
/// min-confidence = "medium"         # default of --min-confidence: lower-rated findings are counted, not reported
/// disable-rules = ["jwt"]           # rule ids (built-in or added) that do not run
/// rule-files = ["ci/rules.toml"]    # more rule files, relative to this file
///
/// [[rules]]                         # or rules inline, as in Rules/*.toml
/// id = "acme-token" …
///
/// [[allowlist]]
/// reason = "vendor base image, rotated and reported upstream (TICKET-12)"
/// layers = ["sha256:…"]             # whole layers, by digest
/// paths = ['^/usr/share/doc/']      # regexes on the in-image path
/// regexes = ['^AKIAIOSFODNN7EXAMPLE$']  # regexes on the secret itself
/// stopwords = ["example"]           # the secret contains one of these words
/// fingerprints = ["v1:…"]           # exactly these findings
/// rules = ["generic-password"]      # optional: the entry applies only to these rules
///
/// [hook]
/// images = ["app:dev"]              # scanned through the daemon by the pre-push hook
/// dockerfiles = true                # lint the Dockerfiles the pushed commits touch
/// ```
public struct ProjectConfig: Sendable {
    public static let defaultFileName = ".residue.toml"

    /// Where it was read from (named in messages).
    public var path: String = defaultFileName
    public var failOn: Severity?
    public var minSeverity: Severity?
    public var minConfidence: Confidence?
    public var disabledRules: [String] = []
    /// Absolute (resolved against the config's folder).
    public var ruleFiles: [String] = []
    /// Rules written inline as `[[rules]]`.
    public var inlineRules: [Rule] = []
    public var allowlist: [AllowlistEntry] = []
    public var hook = HookSettings()

    public init() {}

    public struct HookSettings: Sendable, Equatable {
        /// Images the pre-push hook scans; a bare name means the local daemon (`docker-daemon:`).
        public var images: [String] = []
        public var dockerfiles = true
        public init() {}
    }

    /// Finds `.residue.toml` in `directory` (nil when there is none).
    public static func discover(in directory: String = FileManager.default.currentDirectoryPath) throws -> ProjectConfig? {
        let path = (directory as NSString).appendingPathComponent(defaultFileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try load(path: path)
    }

    public static func load(path: String) throws -> ProjectConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("\(path): cannot read config file")
        }
        let base = ((path as NSString).deletingLastPathComponent as NSString)
        let directory = base.length == 0 ? FileManager.default.currentDirectoryPath : base as String
        return try parse(text, path: path, directory: directory)
    }

    /// Parses the text of a config file. `directory` resolves relative `rule-files`.
    public static func parse(_ text: String, path: String, directory: String) throws -> ProjectConfig {
        let file: ConfigFile
        do {
            try TOMLGuard.check(text, origin: path)
            file = try TOMLDecoder().decode(ConfigFile.self, from: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(path): line \(error.source.begin.line): \(error.description)")
        } catch let error as ConfigError {
            throw ConfigError("\(path): \(error.message)")
        } catch let error as DecodingError {
            throw ConfigError("\(path): \(DecodingErrorText.describe(error))")
        }
        var config = ProjectConfig()
        config.path = path
        config.failOn = try file.failOn.map { try severity($0, key: "fail-on", path: path) }
        config.minSeverity = try file.minSeverity.map { try severity($0, key: "min-severity", path: path) }
        config.minConfidence = try file.minConfidence.map { text in
            guard let value = Confidence(rawValue: text) else {
                throw ConfigError("\(path): min-confidence \"\(text)\": expected low, medium or high")
            }
            return value
        }
        config.disabledRules = file.disableRules ?? []
        config.ruleFiles = (file.ruleFiles ?? []).map { $0.hasPrefix("/") ? $0 : (directory as NSString).appendingPathComponent($0) }
        if file.hasInlineRules {
            do { config.inlineRules = try RuleLoader.parse(text, origin: path) } catch { throw ConfigError("\(error)") }
        }
        for (index, entry) in (file.allowlist ?? []).enumerated() {
            let name = "\(path): [[allowlist]] #\(index + 1)"
            guard let reason = entry.reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else {
                throw ConfigError("\(name): missing \"reason\" — every allowlist entry must say why the finding is acceptable")
            }
            var allowed = AllowlistEntry(reason: reason, index: index + 1)
            allowed.layers = entry.layers ?? []
            allowed.stopwords = (entry.stopwords ?? []).map { $0.lowercased() }
            allowed.fingerprints = entry.fingerprints ?? []
            allowed.rules = entry.rules ?? []
            do {
                allowed.paths = try (entry.paths ?? []).map { try CompiledRegex($0, origin: "\(name) paths") }
                allowed.regexes = try (entry.regexes ?? []).map { try CompiledRegex($0, origin: "\(name) regexes") }
            } catch { throw ConfigError("\(error)") }
            if allowed.layers.isEmpty && allowed.stopwords.isEmpty && allowed.fingerprints.isEmpty
                && allowed.paths.isEmpty && allowed.regexes.isEmpty {
                if allowed.rules.isEmpty {
                    throw ConfigError("\(name): allows nothing — give paths, regexes, stopwords, layers, fingerprints or rules")
                }
            }
            config.allowlist.append(allowed)
        }
        if let hook = file.hook {
            config.hook.images = hook.images ?? []
            config.hook.dockerfiles = hook.dockerfiles ?? true
        }
        return config
    }

    /// The rule set: the built-in rules, the config's rule files and inline rules, `--rules`
    /// files, minus the disabled ones. A disabled id that no rule has is an error (a typo
    /// would otherwise leave the rule running).
    public func ruleSet(extraFiles: [String]) throws -> RuleSet {
        var rules = try RuleLoader.load(extraFiles: ruleFiles + extraFiles) + inlineRules
        var seen = Set<String>()
        for rule in rules where !seen.insert(rule.id).inserted { throw RuleError("rule id \(rule.id) is defined twice") }
        for id in disabledRules where !seen.contains(id) && !Self.builtInChecks.contains(id) {
            throw ConfigError("\(path): disable-rules: no rule \"\(id)\" (see `residue rules list`)")
        }
        rules.removeAll { disabledRules.contains($0.id) }
        return try RuleSet(rules)
    }

    /// Checks that are code, not rule files: disabling them drops their findings after the scan.
    public static let builtInChecks: Set<String> = [MetadataAnalyzer.secretNamedRuleID]

    static func severity(_ text: String, key: String, path: String) throws -> Severity {
        guard let value = Severity(rawValue: text.lowercased()) else {
            throw ConfigError("\(path): \(key) = \"\(text)\": expected low, medium, high or critical")
        }
        return value
    }
}

/// One `[[allowlist]]` entry. A finding is allowed when the entry applies to its rule (`rules`
/// empty: every rule) and any one of the entry's conditions holds.
public struct AllowlistEntry: Sendable {
    public var reason: String
    /// 1-based position in the file, named in reports.
    public var index: Int
    public var layers: [String] = []
    public var paths: [CompiledRegex] = []
    public var regexes: [CompiledRegex] = []
    public var stopwords: [String] = []
    public var fingerprints: [String] = []
    public var rules: [String] = []

    init(reason: String, index: Int) {
        self.reason = reason
        self.index = index
    }

    var hasConditions: Bool {
        !(layers.isEmpty && paths.isEmpty && regexes.isEmpty && stopwords.isEmpty && fingerprints.isEmpty)
    }

    /// Whether this entry allows `finding`; `secret` is the secret in clear.
    func allows(_ finding: Finding, secret: String, state: MatchState) -> Bool {
        if !rules.isEmpty && !rules.contains(finding.ruleId) { return false }
        if !hasConditions { return true }
        if fingerprints.contains(finding.fingerprint) { return true }
        let places = [finding.location] + (finding.alsoAt ?? [])
        if !layers.isEmpty, places.contains(where: { place in
            guard let digest = place.layerDigest else { return false }
            return layers.contains { digest == $0 || digest.hasPrefix($0) && $0.count >= 19 }
        }) { return true }
        if !paths.isEmpty, let path = finding.location.path, paths.contains(where: { state.matches($0, path) }) { return true }
        if !regexes.isEmpty, regexes.contains(where: { state.matches($0, secret) }) { return true }
        if !stopwords.isEmpty {
            let lowered = secret.lowercased()
            if stopwords.contains(where: { lowered.contains($0) }) { return true }
        }
        return false
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The file as written; unknown keys are errors so a typo does not silently do nothing.
struct ConfigFile: Decodable {
    var failOn: String?
    var minSeverity: String?
    var minConfidence: String?
    var disableRules: [String]?
    var ruleFiles: [String]?
    var hasInlineRules = false
    var allowlist: [Entry]?
    var hook: Hook?

    struct Entry: Decodable {
        var reason: String?
        var layers: [String]?
        var paths: [String]?
        var regexes: [String]?
        var stopwords: [String]?
        var fingerprints: [String]?
        var rules: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case reason, layers, paths, regexes, stopwords, fingerprints, rules
        }

        init(from decoder: Decoder) throws {
            try ConfigFile.rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), in: "[[allowlist]]")
            let container = try decoder.container(keyedBy: CodingKeys.self)
            reason = try container.decodeIfPresent(String.self, forKey: .reason)
            layers = try container.decodeIfPresent([String].self, forKey: .layers)
            paths = try container.decodeIfPresent([String].self, forKey: .paths)
            regexes = try container.decodeIfPresent([String].self, forKey: .regexes)
            stopwords = try container.decodeIfPresent([String].self, forKey: .stopwords)
            fingerprints = try container.decodeIfPresent([String].self, forKey: .fingerprints)
            rules = try container.decodeIfPresent([String].self, forKey: .rules)
        }
    }

    struct Hook: Decodable {
        var images: [String]?
        var dockerfiles: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable { case images, dockerfiles }

        init(from decoder: Decoder) throws {
            try ConfigFile.rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), in: "[hook]")
            let container = try decoder.container(keyedBy: CodingKeys.self)
            images = try container.decodeIfPresent([String].self, forKey: .images)
            dockerfiles = try container.decodeIfPresent(Bool.self, forKey: .dockerfiles)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case failOn = "fail-on", minSeverity = "min-severity", minConfidence = "min-confidence", disableRules = "disable-rules", ruleFiles = "rule-files"
        case rules, allowlist, hook
    }

    init(from decoder: Decoder) throws {
        try Self.rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), in: "the top level")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        failOn = try container.decodeIfPresent(String.self, forKey: .failOn)
        minSeverity = try container.decodeIfPresent(String.self, forKey: .minSeverity)
        minConfidence = try container.decodeIfPresent(String.self, forKey: .minConfidence)
        disableRules = try container.decodeIfPresent([String].self, forKey: .disableRules)
        ruleFiles = try container.decodeIfPresent([String].self, forKey: .ruleFiles)
        hasInlineRules = container.contains(.rules)
        allowlist = try container.decodeIfPresent([Entry].self, forKey: .allowlist)
        hook = try container.decodeIfPresent(Hook.self, forKey: .hook)
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func rejectUnknownKeys(_ decoder: Decoder, known: [String], in place: String) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw ConfigError("unknown key \"\(unknown)\" in \(place) (known: \(known.joined(separator: ", ")))")
        }
    }
}
