import Foundation
import ResidueArchive
import ResidueRules

/// How secrets are shown: masked by default, in clear only with `--show-secrets`.
public struct Redactor: Sendable {
    public let showSecrets: Bool
    /// Secrets known only sealed (layer results from the on-disk cache), masked by `scrub` too.
    var sealed: SealedSecrets?

    public init(showSecrets: Bool) { self.showSecrets = showSecrets }

    /// Keeps a vendor prefix (`ghp_`, `sk_live_`, `glpat-`: not secret, and it tells tokens
    /// apart), masks everything else, length included. A key block keeps only its BEGIN line.
    /// `revealPrefix` only for vendor formats, whose prefix is public (never for a password).
    public func redact(_ secret: String, revealPrefix: Bool) -> String {
        if showSecrets { return secret }
        if secret.hasPrefix("-----BEGIN"), let end = secret.firstIndex(of: "\n") {
            return secret[..<end].trimmingCharacters(in: .whitespaces) + " *****"
        }
        if secret.hasPrefix("PuTTY-User-Key-File") { return "PuTTY-User-Key-File *****" }
        return (revealPrefix ? String(Self.vendorPrefix(of: secret)) : "") + "*****"
    }

    /// The leading `letters_` / `letters-` part of a token when it is short against the whole
    /// (`sk_live_` of a 32-character key); nothing for passwords and unprefixed keys.
    static func vendorPrefix(of secret: String) -> Substring {
        guard secret.count >= 16 else { return "" }
        var end = secret.startIndex
        var sawSeparator = false
        for (offset, character) in secret.enumerated() {
            if offset >= 12 { break }
            if character == "_" || character == "-" {
                end = secret.index(secret.startIndex, offsetBy: offset + 1)
                sawSeparator = true
            } else if !(character.isASCII && (character.isLetter || character.isNumber)) {
                break
            }
        }
        guard sawSeparator, secret.distance(from: secret.startIndex, to: end) * 2 <= secret.count else { return "" }
        return secret[..<end]
    }

    /// Masks every known secret where it appears inside other text (instructions, remediation).
    func scrub(_ text: String, secrets: SecretsToScrub) -> String {
        if showSecrets { return text }
        var result = text
        for (secret, revealPrefix) in secrets.candidates(in: text) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: redact(secret, revealPrefix: revealPrefix))
        }
        return sealed?.scrub(result) ?? result
    }
}

/// Every secret a scan saw, longest first (so a secret inside a longer one is masked whole),
/// with whether its prefix may show, and one keyword pass over all of them: a text is checked
/// against thousands of secrets in one pass over the text, not one search per secret (which
/// made assembling a report quadratic in the number of findings).
/// Not thread-safe (it reuses one scratch space): one per report.
final class SecretsToScrub {
    let secrets: [(secret: String, revealPrefix: Bool)]
    private let scanner: KeywordScanner
    private let hits = KeywordHits(capacity: 1 << 16)

    init(_ secrets: [(secret: String, revealPrefix: Bool)]) {
        self.secrets = secrets
        scanner = KeywordScanner(keywords: secrets.map(\.secret))
    }

    /// The secrets that may occur in `text` (longest first). The pass folds ASCII case, so a
    /// candidate may still be absent: the caller checks each exactly.
    func candidates(in text: String) -> [(secret: String, revealPrefix: Bool)] {
        guard !secrets.isEmpty, !text.isEmpty else { return [] }
        var text = text
        text.withUTF8 { scanner.scan(UnsafeRawBufferPointer($0), into: hits) }
        if hits.overflowed { return secrets }
        var present = Set<Int32>()
        hits.forEach { _, id in present.insert(id) }
        return present.sorted().map { secrets[Int($0)] }
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
