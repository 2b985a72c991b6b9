import Foundation
import ResidueRules

/// SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure DevOps, Defect Dojo).
///
/// - One `reportingDescriptor` per rule that has a result, with `security-severity` so GitHub
///   ranks alerts as it ranks its own.
/// - `partialFingerprints["residue/v1"]` is residue's fingerprint (rule, kind of place, path
///   or variable, secret — not the layer digest), so an alert survives a rebuild.
/// - Every result has a physical location a dashboard can open: the Dockerfile line when the
///   finding carries `location.dockerfile {path, line}` (`scan --dockerfile`); otherwise the
///   file's path inside the image (`uriBaseId` `IMAGEROOT`) or, for config and history, the
///   image config blob (`uriBaseId` `IMAGE`). A logical location always names image, platform,
///   layer and path (or variable), which is what a person needs to find it.
/// - Suppressed findings are results with `suppressions` (the allowlist's reason); findings in
///   the baseline are left out and counted in `run.properties.summary`; with a baseline, each
///   result says `baselineState: new`.
///
/// It is built from the JSON report (the contract), so anything the JSON carries — including
/// fields other parts of residue add to a location — reaches the SARIF the same way.
public struct SARIFReporter: Reporter {
    public static let fingerprintKey = "residue/v1"
    public static let schemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

    let toolVersion: String
    /// Whether a baseline was applied (results then carry `baselineState`).
    let baselineApplied: Bool

    public init(toolVersion: String, baselineApplied: Bool = false) {
        self.toolVersion = toolVersion
        self.baselineApplied = baselineApplied
    }

    public func render(_ report: ScanReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(report)
        return try convert(reportJSON: data)
    }

    /// Converts a residue JSON report (as `--format json` writes it) to SARIF.
    public func convert(reportJSON data: Data) throws -> String {
        guard let report = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ScanError("not a residue JSON report")
        }
        let sarif = log(report)
        let out = try JSONSerialization.data(withJSONObject: sarif, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: out, as: UTF8.self) + "\n"
    }

    /// `v1:abcd…` → the value stored under `residue/v1`, and back.
    static func partial(fromFingerprint fingerprint: String) -> String {
        fingerprint.hasPrefix("v1:") ? String(fingerprint.dropFirst(3)) : fingerprint
    }

    static func fingerprint(fromPartial value: String) -> String { value.contains(":") ? value : "v1:" + value }

    static func level(_ severity: String) -> String {
        switch severity {
        case "critical", "high": return "error"
        case "medium": return "warning"
        default: return "note"
        }
    }

    /// GitHub's `security-severity` (0–10): critical ≥ 9, high 7–8.9, medium 4–6.9, low < 4.
    static func securitySeverity(_ severity: String) -> String {
        switch severity {
        case "critical": return "9.5"
        case "high": return "8.0"
        case "medium": return "5.5"
        default: return "3.0"
        }
    }

    /// `private-key-openssh` → `PrivateKeyOpenssh` (SARIF's `name` is an identifier).
    static func ruleName(_ id: String) -> String {
        id.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    func log(_ report: [String: Any]) -> [String: Any] {
        let findings = report["findings"] as? [[String: Any]] ?? []
        let suppressed = (report["suppressed"] as? [[String: Any]] ?? []).filter { ($0["by"] as? String) != "baseline" }
        let target = report["target"] as? [String: Any] ?? [:]
        let summary = report["summary"] as? [String: Any] ?? [:]
        let reference = target["reference"] as? String ?? ""

        // Rules in order of first use.
        var ruleIndex: [String: Int] = [:]
        var rules: [[String: Any]] = []
        let entries: [(finding: [String: Any], suppression: [String: Any]?)] =
            findings.map { ($0, nil) } + suppressed.compactMap { entry in (entry["finding"] as? [String: Any]).map { ($0, entry) } }
        for (finding, _) in entries {
            let id = finding["ruleId"] as? String ?? "unknown"
            if ruleIndex[id] != nil { continue }
            ruleIndex[id] = rules.count
            rules.append(descriptor(id: id, title: finding["title"] as? String ?? id, severity: finding["severity"] as? String ?? "high"))
        }

        let configDigests = Dictionary((target["images"] as? [[String: Any]] ?? []).map {
            (($0["platform"] as? String) ?? "", ($0["configDigest"] as? String) ?? "")
        }, uniquingKeysWith: { first, _ in first })
        let results = entries.map { entry in
            result(entry.finding, suppression: entry.suppression, ruleIndex: ruleIndex, reference: reference, configDigests: configDigests)
        }

        var notifications: [[String: Any]] = []
        for item in summary["skipped"] as? [[String: Any]] ?? [] {
            let what = (item["path"] as? String) ?? (item["layerDigest"] as? String) ?? "item"
            notifications.append(["level": "warning", "message": ["text": "skipped \(what): \(item["reason"] as? String ?? "")"]])
        }
        var invocation: [String: Any] = ["executionSuccessful": true]
        if !notifications.isEmpty { invocation["toolExecutionNotifications"] = notifications }

        let driver: [String: Any] = [
            "name": "residue",
            "fullName": "residue container image secret scanner",
            "version": toolVersion,
            "semanticVersion": toolVersion,
            "rules": rules,
        ]
        let run: [String: Any] = [
            "tool": ["driver": driver],
            "invocations": [invocation],
            "originalUriBaseIds": [
                "IMAGEROOT": ["description": ["text": "The root of the filesystem of the scanned image \(reference): paths of files inside its layers."]],
                "IMAGE": ["description": ["text": "The scanned image \(reference): blobs/sha256/… names its config, which holds Env, Labels and the build history."]],
            ],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": [
                "target": ["reference": reference, "transport": target["transport"] ?? ""],
                "summary": summaryProperties(summary),
            ],
        ]
        return ["$schema": Self.schemaURI, "version": "2.1.0", "runs": [run]]
    }

    func summaryProperties(_ summary: [String: Any]) -> [String: Any] {
        var result: [String: Any] = [:]
        for key in ["findings", "bySeverity", "layersScanned", "filesScanned", "bytesScanned", "rules", "suppressed", "baselined", "belowConfidence", "secretsShown"] {
            if let value = summary[key] { result[key] = value }
        }
        return result
    }

    func descriptor(id: String, title: String, severity: String) -> [String: Any] {
        [
            "id": id,
            "name": Self.ruleName(id),
            "shortDescription": ["text": title],
            "fullDescription": ["text": "\(title) in a container image: in its config, its build history or a file of one of its layers (including files a later layer deleted or overwrote)."],
            "help": [
                "text": "Anyone who can pull the image can read this secret. Rotate it, then rebuild without it: each result names the Dockerfile instruction that put it there and the rewrite that keeps it out (RUN --mount=type=secret, --mount=type=ssh, or a multi-stage build).",
                "markdown": "Anyone who can pull the image can read this secret. **Rotate it**, then rebuild without it: each result names the Dockerfile instruction that put it there and the rewrite that keeps it out (`RUN --mount=type=secret`, `--mount=type=ssh`, or a multi-stage build).",
            ],
            "defaultConfiguration": ["level": Self.level(severity)],
            "properties": [
                "security-severity": Self.securitySeverity(severity),
                "precision": "high",
                "problem.severity": Self.level(severity) == "note" ? "recommendation" : Self.level(severity),
                "tags": ["security", "secret", "container-image"],
            ],
        ]
    }

    func result(_ finding: [String: Any], suppression: [String: Any]?, ruleIndex: [String: Int], reference: String,
                configDigests: [String: String]) -> [String: Any] {
        let id = finding["ruleId"] as? String ?? "unknown"
        let severity = finding["severity"] as? String ?? "high"
        let location = finding["location"] as? [String: Any] ?? [:]
        var result: [String: Any] = [
            "ruleId": id,
            "ruleIndex": ruleIndex[id] ?? 0,
            "level": Self.level(severity),
            "kind": "fail",
            "message": ["text": message(finding, location: location)],
            "locations": [sarifLocation(location, reference: reference, configDigests: configDigests, physical: true)],
        ]
        if let fingerprint = finding["fingerprint"] as? String {
            result["partialFingerprints"] = [Self.fingerprintKey: Self.partial(fromFingerprint: fingerprint)]
        }
        let others = finding["alsoAt"] as? [[String: Any]] ?? []
        if !others.isEmpty {
            result["relatedLocations"] = others.enumerated().map { index, other -> [String: Any] in
                var related = sarifLocation(other, reference: reference, configDigests: configDigests, physical: false)
                related["id"] = index + 1
                related["message"] = ["text": "the same secret, also here"]
                return related
            }
        }
        var properties: [String: Any] = ["severity": severity]
        for key in ["secret", "remediation"] { if let value = finding[key] { properties[key] = value } }
        for key in ["status", "platform", "layerIndex", "layerDigest", "historyIndex", "instruction", "key", "field"] {
            if let value = location[key] { properties[key] = value }
        }
        result["properties"] = properties
        if let suppression {
            var entry: [String: Any] = ["kind": "external", "status": "accepted"]
            if let reason = suppression["reason"] as? String { entry["justification"] = reason }
            result["suppressions"] = [entry]
        } else if baselineApplied {
            result["baselineState"] = "new"
        }
        return result
    }

    /// One line a dashboard shows as the alert's text, then the fix.
    func message(_ finding: [String: Any], location: [String: Any]) -> String {
        let title = finding["title"] as? String ?? "Secret"
        var text = "\(title) in \(Self.place(location))"
        if let status = location["status"] as? String, status != "present" {
            text += " (\(status) by a later layer, still readable in layer \(location["layerIndex"] as? Int ?? 0))"
        }
        if let secret = finding["secret"] as? String { text += ": \(secret)" }
        text += "."
        if let instruction = location["instruction"] as? String { text += " Put there by: \(instruction)." }
        if let remediation = finding["remediation"] as? String { text += "\n\nFix: \(remediation)" }
        return text
    }

    static func place(_ location: [String: Any]) -> String {
        let kind = location["kind"] as? String ?? ""
        let layer = (location["layerIndex"] as? Int).map { "layer \($0)" }
        switch kind {
        case "layer-file":
            var text = location["path"] as? String ?? "a file"
            if let line = location["line"] as? Int { text += ":\(line)" }
            return text + (layer.map { " (\($0))" } ?? "")
        case "history":
            return "build history #\(location["historyIndex"] as? Int ?? 0)" + ((location["key"] as? String).map { " (\($0))" } ?? "")
        case "config-env": return "config Env \(location["key"] as? String ?? "")"
        case "config-label": return "config Label \(location["key"] as? String ?? "")"
        case "config-cmd": return "config \(location["key"] as? String ?? "Cmd")"
        default: return "config \(location["field"] as? String ?? "")"
        }
    }

    func sarifLocation(_ location: [String: Any], reference: String, configDigests: [String: String], physical: Bool) -> [String: Any] {
        var result: [String: Any] = [:]
        let platform = location["platform"] as? String
        var parts = [reference]
        if let platform { parts.append(platform) }
        if let index = location["layerIndex"] as? Int {
            let digest = (location["layerDigest"] as? String).map { " " + $0.prefix(19) } ?? ""
            parts.append("layer \(index)\(digest)")
        }
        let kind = location["kind"] as? String ?? ""
        let name: String
        let logicalKind: String
        if kind == "layer-file" {
            name = location["path"] as? String ?? ""
            logicalKind = "resource"
        } else if kind == "history" {
            name = "history #\(location["historyIndex"] as? Int ?? 0)" + ((location["key"] as? String).map { " \($0)" } ?? "")
            logicalKind = "declaration"
        } else {
            name = Self.place(location)
            logicalKind = "variable"
        }
        parts.append(name)
        result["logicalLocations"] = [["name": name, "fullyQualifiedName": parts.joined(separator: " / "), "kind": logicalKind]]

        if let dockerfile = location["dockerfile"] as? [String: Any], let path = dockerfile["path"] as? String {
            var physicalLocation: [String: Any] = ["artifactLocation": ["uri": Self.uri(forFile: path)]]
            if let line = dockerfile["line"] as? Int, line > 0 { physicalLocation["region"] = ["startLine": line] }
            result["physicalLocation"] = physicalLocation
        } else if physical {
            if kind == "layer-file", let path = location["path"] as? String {
                let relative = path.hasPrefix("/") ? String(path.dropFirst()) : path
                result["physicalLocation"] = [
                    "artifactLocation": ["uri": Self.escape(relative), "uriBaseId": "IMAGEROOT"],
                    "region": ["startLine": max(1, location["line"] as? Int ?? 1)],
                ]
            } else {
                let digest = configDigests[platform ?? ""] ?? configDigests.values.first ?? "config"
                result["physicalLocation"] = [
                    "artifactLocation": ["uri": "blobs/" + digest.replacingOccurrences(of: ":", with: "/"), "uriBaseId": "IMAGE"],
                    "region": ["startLine": 1],
                ]
            }
        }
        return result
    }

    static func escape(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }

    /// A Dockerfile path as given: relative stays relative (to the repository root, as
    /// dashboards expect), absolute becomes a file URI.
    static func uri(forFile path: String) -> String {
        path.hasPrefix("/") ? "file://" + escape(path) : escape(path)
    }
}
