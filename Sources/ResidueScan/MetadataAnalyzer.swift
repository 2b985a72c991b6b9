import Foundation
import ResidueImage
import ResidueRules

/// A secret seen in one place, before findings are grouped.
struct Observation {
    let ruleId: String
    let title: String
    let severity: Severity
    /// Which rule wins when several found the same secret (RulePriority).
    let priority: RulePriority
    let secret: String
    var location: Location
    /// Index into the scan's images (for remediation, which reads that image's history).
    let imageIndex: Int
    /// Set for a layer hit read from the on-disk cache: `secret` is then only a grouping key,
    /// and the report uses these instead.
    var sealed: SealedSecret? = nil
    var redacted: String? = nil
    var fingerprint: String? = nil
    /// How likely a live credential (ConfidenceAssessor); nil for the name-based check (medium).
    var assessment: Assessment? = nil
}

/// What residue knows about one image's build history.
struct ImageHistory {
    let instructions: [Instruction]
    /// historyIndexForLayer[layerIndex]
    let layout: HistoryLayout

    init(config: ImageConfig, layerCount: Int) {
        let history = config.history ?? []
        instructions = history.map { HistoryParser.parse($0.created_by ?? "", comment: $0.comment) }
        layout = HistoryLayout(history: history, layerCount: layerCount)
    }

    func historyIndex(forLayer layer: Int) -> Int? {
        layer < layout.historyIndexForLayer.count ? layout.historyIndexForLayer[layer] : nil
    }

    func layerIndex(forHistory history: Int) -> Int? {
        layout.historyIndexForLayer.firstIndex { $0 == history }
    }

    /// The last instruction with `keyword` that assigns `name` (the ENV or LABEL that set it).
    func lastAssignment(keyword: String, name: String) -> Int? {
        instructions.lastIndex { $0.keyword == keyword && $0.assignments.contains { $0.name == name } }
    }

    func last(keywords: Set<String>) -> Int? {
        instructions.lastIndex { keywords.contains($0.keyword) }
    }
}

/// Finds secrets in the image config and the build history (not in layers).
struct MetadataAnalyzer {
    static let secretNamedRuleID = "secret-named-variable"
    let matcher: Matcher


    func analyze(_ image: ResolvedImage, history: ImageHistory, imageIndex: Int) -> [Observation] {
        var found: [Observation] = []
        let platform = image.platform?.description

        func located(_ kind: Location.Kind, historyIndex: Int? = nil, key: String? = nil, field: String? = nil) -> Location {
            var location = Location(kind: kind)
            location.platform = platform
            location.key = key
            location.field = field
            if let historyIndex {
                location.historyIndex = historyIndex
                location.instruction = history.instructions[historyIndex].text
                if let layer = history.layerIndex(forHistory: historyIndex) {
                    location.layerIndex = layer
                    location.layerDigest = image.layers[layer].digest.description
                }
            }
            return location
        }

        /// `NAME=value`: a vendor rule on the value, or else the name says it is a credential.
        func checkAssignment(name: String, value: String, at location: Location) {
            let specific = matcher.scan(text: "\(name)=\(value)").filter { !matcher.ruleSet.rules[$0.ruleIndex].rule.isGeneric }
            for match in specific { found.append(observation(match, at: location)) }
            if specific.isEmpty, SecretValues.isSecretName(name), SecretValues.isRealSecretValue(value) {
                found.append(Observation(ruleId: Self.secretNamedRuleID,
                                         title: "Credential in a variable named \(name)", severity: .high,
                                         priority: .secretName, secret: value, location: location, imageIndex: imageIndex))
            }
        }

        func checkText(_ text: String, at location: Location) {
            for match in matcher.scan(text: text) { found.append(observation(match, at: location)) }
        }

        func observation(_ match: RuleMatch, at location: Location) -> Observation {
            let rule = matcher.ruleSet.rules[match.ruleIndex].rule
            return Observation(ruleId: rule.id, title: rule.title, severity: rule.severity, priority: rule.priority,
                               secret: match.secret, location: location, imageIndex: imageIndex,
                               assessment: ConfidenceAssessor.assess(rule, secret: match.secret, path: nil))
        }

        // History: build arguments, ENV/LABEL values, and the command lines themselves.
        for (index, instruction) in history.instructions.enumerated() {
            for argument in instruction.buildArgs {
                checkAssignment(name: argument.name, value: argument.value, at: located(.history, historyIndex: index, key: argument.name))
            }
            switch instruction.keyword {
            case "ARG":
                break
            case "ENV", "LABEL":
                for assignment in instruction.assignments {
                    checkAssignment(name: assignment.name, value: assignment.value,
                                    at: located(.history, historyIndex: index, key: assignment.name))
                }
            default:
                checkText(instruction.arguments, at: located(.history, historyIndex: index))
            }
        }

        // Config: what `docker inspect` shows to anyone who pulls the image.
        let run = image.config.config
        for entry in run?.Env ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]), value = parts.count > 1 ? String(parts[1]) : ""
            checkAssignment(name: name, value: value,
                            at: located(.configEnv, historyIndex: history.lastAssignment(keyword: "ENV", name: name), key: name))
        }
        for (name, value) in (run?.Labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            checkAssignment(name: name, value: value,
                            at: located(.configLabel, historyIndex: history.lastAssignment(keyword: "LABEL", name: name), key: name))
        }
        for (field, words) in [("Entrypoint", run?.Entrypoint ?? []), ("Cmd", run?.Cmd ?? [])] where !words.isEmpty {
            checkText(words.joined(separator: " "),
                      at: located(.configCmd, historyIndex: history.last(keywords: [field.uppercased()]), key: field))
        }
        var others: [(String, String)] = []
        if let user = run?.User { others.append(("User", user)) }
        if let directory = run?.WorkingDir { others.append(("WorkingDir", directory)) }
        if let signal = run?.StopSignal { others.append(("StopSignal", signal)) }
        if let shell = run?.Shell { others.append(("Shell", shell.joined(separator: " "))) }
        if let onBuild = run?.OnBuild { others.append(("OnBuild", onBuild.joined(separator: "\n"))) }
        if let test = run?.Healthcheck?.Test { others.append(("Healthcheck", test.joined(separator: " "))) }
        if let volumes = run?.Volumes { others.append(("Volumes", volumes.keys.sorted().joined(separator: " "))) }
        for (field, text) in others where !text.isEmpty {
            checkText(text, at: located(.configOther, field: field))
        }
        return found
    }
}
