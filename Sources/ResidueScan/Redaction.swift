import Foundation
import ResidueArchive

/// How secrets are shown: masked by default, in clear only with `--show-secrets`.
public struct Redactor: Sendable {
    public let showSecrets: Bool

    public init(showSecrets: Bool) { self.showSecrets = showSecrets }

    /// Keeps a short, non-secret prefix (enough to tell `ghp_` from `glpat-`), masks the rest.
    /// A key block keeps only its BEGIN line.
    public func redact(_ secret: String) -> String {
        if showSecrets { return secret }
        if secret.hasPrefix("-----BEGIN"), let end = secret.firstIndex(of: "\n") {
            return secret[..<end].trimmingCharacters(in: .whitespaces) + " *****"
        }
        if secret.hasPrefix("PuTTY-User-Key-File") { return "PuTTY-User-Key-File *****" }
        let count = secret.count
        let shown = count >= 16 ? min(4, count / 4) : 0
        return String(secret.prefix(shown)) + "*****"
    }

    /// Masks every known secret where it appears inside other text (instructions, remediation).
    func scrub(_ text: String, secrets: [String]) -> String {
        if showSecrets { return text }
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: redact(secret))
        }
        return result
    }
}

/// A finding's identity across runs and rebuilds: the rule, where (kind and path or variable,
/// not the layer digest, which changes on every rebuild) and a hash of the secret. Versioned so
/// the recipe can change without silently breaking baselines.
enum Fingerprint {
    static func make(ruleId: String, location: Location, secret: String) -> String {
        let place = location.path ?? location.key ?? location.field ?? location.instruction ?? ""
        let text = ["residue-fingerprint-v1", ruleId, location.kind.rawValue, place, secret].joined(separator: "\u{0}")
        return "v1:" + Digest.sha256(of: text).hex.prefix(32)
    }
}
