/// Which rule's finding stands when several rules find the same secret, and whether the
/// secret's first characters may show in a redacted report (only a format's own prefix, such as
/// `ghp_`, says nothing about the secret).
public enum RulePriority: Int, Comparable, Sendable {
    /// The name-based check of config values and build arguments (`ENV DB_PASSWORD=…`).
    case secretName = 0
    /// A secret-named key assigned a random-looking value (`generic = true`).
    case generic = 1
    /// A secret known by what surrounds it: a header or a command-line option, a manifest's
    /// structure (`contextual = true`), a provider's name nearby (`[[providers]]`).
    case context = 2
    /// A credential file's own syntax (`paths`: `.netrc`, `.npmrc`, a kubeconfig): it names the
    /// file and the field, so it beats what only sees the text.
    case credentialFile = 3
    /// A secret known by its own shape: a vendor prefix, a checksum, a key block. It names the
    /// provider, so it beats even a credential file's rule (`npm_…` in `.npmrc` is an npm token).
    case format = 4

    public static func < (a: RulePriority, b: RulePriority) -> Bool { a.rawValue < b.rawValue }

    /// Only a vendor format's prefix may show when the secret is redacted.
    public var revealsPrefix: Bool { self == .format }
}

extension Rule {
    public var priority: RulePriority {
        if isGeneric { return .generic }
        if isPathScoped { return .credentialFile }
        if contextual == true { return .context }
        return .format
    }
}
