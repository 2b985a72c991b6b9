import Foundation

/// `.dockerignore` patterns, matched the way BuildKit's patternmatcher does: each pattern is
/// cleaned (`./a//b/` → `a/b`, a leading `/` dropped), `*` and `?` stop at `/`, `**` spans
/// folders, a pattern that matches a folder matches everything under it, `!` re-includes,
/// and the last pattern that matches a path decides.
public struct IgnorePatterns: Sendable {
    struct Pattern { let regex: NSRegularExpression; let exclusion: Bool; let text: String }
    let patterns: [Pattern]

    public init(_ text: String) {
        var patterns: [Pattern] = []
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var exclusion = false
            if line.hasPrefix("!") {
                exclusion = true
                line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            let cleaned = Self.clean(line)
            if cleaned.isEmpty { continue }
            if let regex = try? NSRegularExpression(pattern: Self.regex(for: cleaned)) {
                patterns.append(Pattern(regex: regex, exclusion: exclusion, text: cleaned))
            }
        }
        self.patterns = patterns
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// `filepath.Clean` on a slash path, leading `/` removed.
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if part == "..", parts.isEmpty { continue }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    static func regex(for pattern: String) -> String {
        var regex = "^"
        let characters = Array(pattern)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "*":
                if index + 1 < characters.count, characters[index + 1] == "*" {
                    index += 1
                    if index + 1 < characters.count, characters[index + 1] == "/" { index += 1 }
                    regex += index + 1 >= characters.count ? ".*" : "(.*/)?"
                } else {
                    regex += "[^/]*"
                }
            case "?": regex += "[^/]"
            case "[":
                if let close = characters[(index + 1)...].firstIndex(of: "]") {
                    var set = String(characters[(index + 1)..<close])
                    if set.hasPrefix("^") || set.hasPrefix("!") { set = "^" + set.dropFirst() }
                    regex += "[" + set.replacingOccurrences(of: "\\", with: "\\\\") + "]"
                    index = close
                } else {
                    regex += "\\["
                }
            case "\\":
                if index + 1 < characters.count { index += 1; regex += NSRegularExpression.escapedPattern(for: String(characters[index])) }
                else { regex += "\\\\" }
            default:
                regex += NSRegularExpression.escapedPattern(for: String(character))
            }
            index += 1
        }
        return regex + "$"
    }

    static func matches(_ regex: NSRegularExpression, _ path: String) -> Bool {
        regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }

    /// True when the pattern matches the path or one of its parent folders.
    static func matchesOrParent(_ regex: NSRegularExpression, _ path: String) -> Bool {
        if matches(regex, path) { return true }
        var parent = path
        while let slash = parent.lastIndex(of: "/") {
            parent = String(parent[..<slash])
            if matches(regex, parent) { return true }
        }
        return false
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out of the context.
    public func excludes(_ path: String) -> Bool {
        let cleaned = Self.clean(path)
        var excluded = false
        for pattern in patterns where Self.matchesOrParent(pattern.regex, cleaned) {
            excluded = !pattern.exclusion
        }
        return excluded
    }

    /// Whether one pattern (a COPY source, say) selects `path`: the path itself or a parent.
    public static func select(_ pattern: String, _ path: String) -> Bool {
        let cleaned = clean(pattern)
        if cleaned.isEmpty { return true }  // `.` is the whole context
        guard let regex = try? NSRegularExpression(pattern: regex(for: cleaned)) else { return false }
        return matchesOrParent(regex, clean(path))
    }
}

/// The files a build can COPY: the context folder, minus what `.dockerignore` leaves out.
public struct BuildContext: Sendable {
    public let root: String
    /// Context-relative paths of regular files (and symlinks), `/`-separated, sorted.
    public let files: [String]
    /// Which ignore file applied (`Dockerfile.dockerignore` beats `.dockerignore`), if any.
    public let ignoreFile: String?
    public let ignore: IgnorePatterns
    /// True when the walk stopped at `limit` files.
    public let truncated: Bool

    public static let defaultLimit = 100_000

    /// Reads the context at `root`. `dockerfile` names the Dockerfile, for its own
    /// `<name>.dockerignore` (BuildKit reads that one first).
    public init(root: String, dockerfile: String? = nil, limit: Int = BuildContext.defaultLimit) {
        self.root = root
        var ignoreFile: String?
        var ignoreText = ""
        var candidates: [String] = []
        if let dockerfile { candidates.append(dockerfile + ".dockerignore") }
        candidates.append((root as NSString).appendingPathComponent(".dockerignore"))
        for candidate in candidates {
            if let text = try? String(contentsOfFile: candidate, encoding: .utf8) {
                ignoreFile = candidate
                ignoreText = text
                break
            }
        }
        self.ignoreFile = ignoreFile
        let ignore = IgnorePatterns(ignoreText)
        self.ignore = ignore
        var files: [String] = []
        var truncated = false
        let manager = FileManager.default
        var queue = [""]
        while let relative = queue.popLast() {
            let folder = relative.isEmpty ? root : (root as NSString).appendingPathComponent(relative)
            guard let entries = try? manager.contentsOfDirectory(atPath: folder) else { continue }
            for entry in entries.sorted() {
                let path = relative.isEmpty ? entry : relative + "/" + entry
                var isDirectory: ObjCBool = false
                let full = (root as NSString).appendingPathComponent(path)
                let attributes = try? manager.attributesOfItem(atPath: full)
                if attributes?[.type] as? FileAttributeType == .typeSymbolicLink {
                    if !ignore.excludes(path) { files.append(path) }
                    continue
                }
                guard manager.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    queue.append(path)
                } else if !ignore.excludes(path) {
                    if files.count >= limit { truncated = true; break }
                    files.append(path)
                }
            }
            if truncated { break }
        }
        self.files = files.sorted()
        self.truncated = truncated
    }

    /// The context files a COPY/ADD source selects (a file, a folder, or a glob).
    public func files(selectedBy source: String) -> [String] {
        files.filter { IgnorePatterns.select(source, $0) }
    }

    public func contents(of path: String, limit: Int = 1 << 20) -> Data? {
        let full = (root as NSString).appendingPathComponent(path)
        guard let handle = FileHandle(forReadingAtPath: full) else { return nil }
        defer { try? handle.close() }
        return try? handle.read(upToCount: limit)
    }
}

/// What makes a file a credential by its name and place.
public enum CredentialFiles {
    public enum Kind: String, Sendable {
        case sshKey = "ssh-key"
        case file
        /// A folder whose files are credentials as a whole (`.aws/`, `.git/`, `.ssh/`, `.docker/`).
        case folder
    }

    public struct Match: Sendable, Equatable {
        public let kind: Kind
        /// The path that is the credential: the file, or the folder (`.git`) for folder kinds.
        public let path: String
        public let what: String
    }

    static let fileNames: [String: String] = [
        ".npmrc": "npm credentials", ".netrc": "netrc credentials", "_netrc": "netrc credentials",
        ".pypirc": "PyPI credentials", ".git-credentials": "git credentials", ".pgpass": "PostgreSQL passwords",
        ".htpasswd": "HTTP passwords", ".dockercfg": "Docker registry credentials", "credentials.json": "service credentials",
        ".vault-token": "Vault token", ".s3cfg": "S3 credentials", ".boto": "cloud credentials",
    ]
    static let sshKeyNames: Set<String> = ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity"]
    static let privateExtensions: [String: String] = [".pem": "PEM key or certificate", ".key": "private key", ".p12": "PKCS#12 keystore",
                                                      ".pfx": "PKCS#12 keystore", ".jks": "Java keystore", ".ppk": "PuTTY private key"]
    static let envTemplates: Set<String> = ["example", "sample", "template", "dist", "defaults", "default", "tpl"]

    /// Classifies a path (context-relative or in-image), or nil when its name says nothing.
    public static func classify(_ path: String) -> Match? {
        let components = path.split(separator: "/").map(String.init)
        guard let name = components.last else { return nil }
        // folders that are credentials as a whole
        for (index, component) in components.enumerated().dropLast() {
            let folder = components[...index].joined(separator: "/")
            switch component {
            case ".git": return Match(kind: .folder, path: folder, what: "git repository metadata (remote URLs with tokens, the whole history)")
            case ".aws": return Match(kind: .folder, path: folder, what: "AWS credentials")
            case ".docker" where name == "config.json": return Match(kind: .file, path: path, what: "Docker registry credentials")
            case ".kube" where name.hasPrefix("config"): return Match(kind: .file, path: path, what: "Kubernetes credentials")
            case ".gnupg": return Match(kind: .folder, path: folder, what: "GnuPG private keys")
            case ".ssh" where sshKeyNames.contains(name) || (!name.hasSuffix(".pub") && name != "known_hosts" && name != "config"):
                return Match(kind: .sshKey, path: path, what: "SSH private key")
            default: break
            }
        }
        if sshKeyNames.contains(name) { return Match(kind: .sshKey, path: path, what: "SSH private key") }
        if let what = fileNames[name] { return Match(kind: .file, path: path, what: what) }
        if name == ".env" { return Match(kind: .file, path: path, what: "environment file") }
        if name.hasPrefix(".env.") {
            let suffix = name.dropFirst(5).lowercased()
            if !envTemplates.contains(suffix) { return Match(kind: .file, path: path, what: "environment file") }
        }
        for (suffix, what) in privateExtensions where name.lowercased().hasSuffix(suffix) && name.count > suffix.count {
            return Match(kind: .file, path: path, what: what)
        }
        return nil
    }
}
