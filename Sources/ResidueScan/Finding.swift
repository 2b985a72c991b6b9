import Foundation
import ResidueRules
import ResidueImage

/// Where a secret was seen.
public struct Location: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case layerFile = "layer-file"
        case history
        case configEnv = "config-env"
        case configLabel = "config-label"
        case configCmd = "config-cmd"
        case configOther = "config-other"
    }

    public enum Status: String, Codable, Sendable {
        /// In the final filesystem.
        case present
        /// Removed by a later layer (a whiteout), still readable in this layer.
        case deleted
        /// Written again by a later layer, still readable in this layer.
        case overwritten
    }

    public var kind: Kind
    public var platform: String?
    public var layerIndex: Int?
    public var layerDigest: String?
    /// In-image path; `outer.zip!inner/file` for a file inside an archive.
    public var path: String?
    public var line: Int?
    public var status: Status?
    public var historyIndex: Int?
    /// The Dockerfile instruction that put it there (secrets redacted unless asked).
    public var instruction: String?
    /// The variable, label or build argument that held it.
    public var key: String?
    /// For config-other: which config field.
    public var field: String?
    /// The Dockerfile line that caused it (`residue scan --dockerfile`).
    public var dockerfile: DockerfileLocation?

    public init(kind: Kind) { self.kind = kind }
}

/// A line of the Dockerfile an image was built from.
public struct DockerfileLocation: Codable, Sendable, Equatable {
    public var path: String
    public var line: Int
    public init(path: String, line: Int) {
        self.path = path
        self.line = line
    }
}

/// How an image's history lined up with the Dockerfile given with `--dockerfile`.
public struct DockerfileMatch: Codable, Sendable {
    public struct Image: Codable, Sendable {
        public var platform: String?
        /// True when every instruction of the final stage matched a history entry.
        public var matched: Bool
        /// The first history entry of the final stage (the ones before it are the base image).
        public var firstHistoryIndex: Int?
        /// Why it did not match, or what was matched.
        public var note: String
        public init(platform: String?, matched: Bool, firstHistoryIndex: Int?, note: String) {
            self.platform = platform
            self.matched = matched
            self.firstHistoryIndex = firstHistoryIndex
            self.note = note
        }
    }
    public var path: String
    public var images: [Image]
    public init(path: String, images: [Image]) {
        self.path = path
        self.images = images
    }
}

/// One leaked secret in one place; `alsoAt` lists the other places the same secret was seen
/// (the classic builder repeats build arguments on every later RUN).
public struct Finding: Codable, Sendable {
    public var ruleId: String
    public var title: String
    public var severity: Severity
    public var secret: String
    public var fingerprint: String
    public var location: Location
    public var alsoAt: [Location]?
    public var remediation: String
    /// high: a vendor format with a verified checksum or an unmistakable prefix; medium: a
    /// value recognised by the name beside it; low: a generic rule, a failed checksum, or test
    /// and example material (ConfidenceAssessor in ResidueRules).
    public var confidence: Confidence? = nil
    /// Why the confidence differs from the rule's own (checksum, test directory…).
    public var confidenceNote: String? = nil
    /// The secret in clear, for allowlist regexes and stopwords; never encoded in any report.
    public var clearSecret: String? = nil

    enum CodingKeys: String, CodingKey {
        case ruleId, title, severity, secret, fingerprint, location, alsoAt, remediation, confidence, confidenceNote
    }
}

/// Something a scan did not read, and why (never a silent truncation).
public struct Skipped: Codable, Sendable, Equatable {
    public var layerDigest: String?
    public var path: String?
    public var reason: String
}

/// A scanned image, as the report describes it.
public struct ScannedImage: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var index: Int
        public var digest: String
        public var diffID: String?
        public var historyIndex: Int?
        public var instruction: String?
    }

    public var platform: String?
    public var manifestDigest: String?
    public var configDigest: String
    public var names: [String]
    public var layers: [Layer]
}

public struct ScanTarget: Codable, Sendable {
    public var reference: String
    public var transport: String
    public var images: [ScannedImage]
}

public struct ScanSummary: Codable, Sendable {
    public var findings: Int
    public var bySeverity: [String: Int]
    public var layersScanned: Int
    public var filesScanned: Int
    public var bytesScanned: Int64
    public var skipped: [Skipped]
    /// What the scan noticed about the image itself (history that does not line up with the
    /// layers, …): the scan is complete, but attribution may be partial.
    public var warnings: [String]
    public var rules: Int
    public var secretsShown: Bool
    /// Findings an allowlist or the severity threshold of `.residue.toml` suppressed (listed in `suppressed`).
    public var suppressed = 0
    /// Findings already in the `--baseline` report (listed in `suppressed`).
    public var baselined = 0
    /// Findings rated below `--min-confidence` (listed in `suppressed`).
    public var belowConfidence = 0
}

/// The result of a scan: what reporters format and what the exit code is decided from.
public struct ScanReport: Codable, Sendable {
    public var findings: [Finding]
    public var target: ScanTarget
    public var summary: ScanSummary
    /// Set by `--dockerfile`: whether the history lined up with it.
    public var dockerfile: DockerfileMatch? = nil
    /// Findings not reported as leaks, each with its reason (allowlist, baseline, threshold).
    public var suppressed: [SuppressedFinding] = []
    /// The images the scan resolved (configs, histories, layers), for what works on the result
    /// afterwards (`--dockerfile` lines the history up with a Dockerfile) without opening the
    /// image a second time — with other settings, or a daemon exporting it twice. Not part of
    /// the report's JSON.
    public var resolvedImages: [ResolvedImage] = []

    enum CodingKeys: String, CodingKey { case findings, target, summary, dockerfile, suppressed }

    /// Whether any finding is at or above `threshold`.
    public func hasFindings(atOrAbove threshold: Severity) -> Bool {
        findings.contains { $0.severity >= threshold }
    }
}
