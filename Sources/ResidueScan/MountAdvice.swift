import Foundation

/// The words of every secret-mount fix, shared by image remediation (`residue scan`) and the
/// Dockerfile fixer (`residue dockerfile --fix`), so both say the same thing the same way.
public enum MountAdvice {
    /// The `syntax` directive the `env=` option of secret mounts needs (BuildKit ≥ 0.13).
    public static let envSyntax = "docker/dockerfile:1.10"

    /// A secret id from a variable or file name: `GITHUB_TOKEN` → `github_token`, `.npmrc` → `npmrc`.
    public static func secretID(_ name: String) -> String {
        let base = name.hasPrefix(".") ? String(name.dropFirst()) : name
        let lowered = base.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let id = String(lowered).trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        return id.isEmpty ? "secret" : id
    }

    /// `--mount=type=secret,id=ID,env=NAME`: the secret as an environment variable of one RUN.
    public static func envMount(id: String, name: String) -> String { "--mount=type=secret,id=\(id),env=\(name)" }
    /// `--mount=type=secret,id=ID`: the secret as the file /run/secrets/ID (every builder).
    public static func fileMount(id: String) -> String { "--mount=type=secret,id=\(id)" }
    /// `--mount=type=secret,id=ID,target=PATH`: the secret as a file where the build expects it.
    public static func targetMount(id: String, target: String) -> String { "--mount=type=secret,id=\(id),target=\(target)" }
    public static let sshMount = "--mount=type=ssh"
    /// The portable way to read a mounted secret into a variable: `export NAME="$(cat /run/secrets/ID)"`.
    public static func portableExport(id: String, name: String) -> String { "export \(name)=\"$(cat /run/secrets/\(id))\"" }

    public static func buildSecret(id: String, env name: String) -> String { "--secret id=\(id),env=\(name)" }
    public static func buildSecret(id: String, src: String) -> String { "--secret id=\(id),src=\(src)" }
    public static let buildSSH = "--ssh default"

    /// The two RUN forms for a build argument or variable read by `command`.
    public static func runForms(name: String, command: String) -> (env: String, portable: String) {
        let id = secretID(name)
        return ("RUN \(envMount(id: id, name: name)) \(command)",
                "RUN \(fileMount(id: id)) \(portableExport(id: id, name: name)) && \(command)")
    }
}
