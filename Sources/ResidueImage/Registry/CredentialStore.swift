import Foundation

/// Finds credentials for a registry the way docker, podman and skopeo users expect:
/// `--creds`, then `--authfile`, `$REGISTRY_AUTH_FILE`, `$DOCKER_CONFIG/config.json`
/// (`~/.docker/config.json`). In a file, `credHelpers[host]` wins, then `auths[host]`
/// (`auth` is base64 of `user:password`), then `credsStore` for every host; helpers are the
/// `docker-credential-NAME get` programs. Credentials are never logged nor put in a URL.
struct CredentialStore: Sendable {
    let settings: RegistrySettings
    var environment = ProcessInfo.processInfo.environment

    init(settings: RegistrySettings) { self.settings = settings }

    func credentials(for registry: String) throws -> RegistrySettings.Credentials? {
        if let explicit = settings.credentials { return explicit }
        for file in authFiles() {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw ImageError("\(file): not a valid auth file (JSON expected)")
            }
            if let found = try credentials(in: json, for: registry, file: file) { return found }
        }
        return nil
    }

    func authFiles() -> [String] {
        var files: [String] = []
        if let file = settings.authFile { files.append(file) }
        if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty { files.append(file) }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { files.append(runtime + "/containers/auth.json") }
        let dockerConfig = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.docker"
        files.append(dockerConfig + "/config.json")
        return files
    }

    /// The keys under which a registry may be stored: `host`, `https://host/v1/`…; Docker Hub's
    /// classic key is `https://index.docker.io/v1/`.
    static func host(ofKey key: String) -> String {
        var host = key
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = String(host.dropFirst(scheme.count)) }
        if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
        return RegistryReference.normalizeRegistry(host)
    }

    func credentials(in json: [String: Any], for registry: String, file: String) throws -> RegistrySettings.Credentials? {
        let registry = RegistryReference.normalizeRegistry(registry)
        if let helpers = json["credHelpers"] as? [String: String] {
            for (key, helper) in helpers where Self.host(ofKey: key) == registry {
                return try Self.runHelper(helper, server: key)
            }
        }
        if let auths = json["auths"] as? [String: Any] {
            for (key, value) in auths where Self.host(ofKey: key) == registry {
                guard let entry = value as? [String: Any] else { continue }
                if let auth = entry["auth"] as? String, !auth.isEmpty {
                    guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                          let credentials = RegistrySettings.Credentials(decoded) else {
                        throw ImageError("\(file): the auth entry for \(key) is not base64 of user:password")
                    }
                    return credentials
                }
                if let user = entry["username"] as? String, let password = entry["password"] as? String {
                    return .init(username: user, password: password)
                }
            }
        }
        if let store = json["credsStore"] as? String, !store.isEmpty {
            let server = registry == "docker.io" ? "https://index.docker.io/v1/" : registry
            return try Self.runHelper(store, server: server)
        }
        return nil
    }

    /// `docker-credential-NAME get`, the server on standard input, JSON on standard output.
    /// A helper that knows nothing of the server exits non-zero: no credentials, not an error.
    static func runHelper(_ name: String, server: String) throws -> RegistrySettings.Credentials? {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw ImageError("credential helper \"\(name)\": not a helper name")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker-credential-\(name)", "get"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ImageError("credential helper docker-credential-\(name) could not be started")
        }
        input.fileHandleForWriting.write(Data(server.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw ImageError("credential helper docker-credential-\(name) is not installed (named in a docker config for \(server))")
        }
        guard process.terminationStatus == 0,
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let user = json["Username"] as? String, let secret = json["Secret"] as? String else { return nil }
        // "<token>" marks an identity token (an OAuth refresh token), which this client does not exchange.
        if user == "<token>" { return nil }
        return .init(username: user, password: secret)
    }
}
