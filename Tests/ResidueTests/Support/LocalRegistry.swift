import Foundation
import XCTest

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 and a free port, storing in a
/// temp folder: open, behind htpasswd (bcrypt), or behind token auth whose JWTs a
/// `TokenIssuer` of this test support signs. Fixture images are pushed with `skopeo copy`.
final class LocalRegistry: @unchecked Sendable {
    enum Auth { case none, htpasswd, token }

    static let user = "residue"
    static let password = "s3cret-test-pass"

    let folder = TemporaryFolder("residue-registry")
    let port: Int
    let auth: Auth
    private var process: Background?
    private(set) var issuer: TokenIssuer?
    var host: String { "127.0.0.1:\(port)" }

    init(auth: Auth) throws {
        self.auth = auth
        port = Tools.freePort()
        var authSection = ""
        switch auth {
        case .none:
            break
        case .htpasswd:
            let result = try Tools.run(["htpasswd", "-Bbn", Self.user, Self.password])
            guard result.status == 0 else { throw TestSetupError("htpasswd failed: \(result.output)") }
            try result.output.trimmingCharacters(in: .whitespacesAndNewlines).appending("\n")
                .write(toFile: folder.file("htpasswd"), atomically: true, encoding: .utf8)
            authSection = """
            auth:
              htpasswd:
                realm: residue-test
                path: \(folder.file("htpasswd"))
            """
        case .token:
            let issuer = try TokenIssuer(folder: folder)
            self.issuer = issuer
            authSection = """
            auth:
              token:
                realm: http://127.0.0.1:\(issuer.port)/token
                service: \(TokenIssuer.service)
                issuer: \(TokenIssuer.issuerName)
                rootcertbundle: \(issuer.certificatePath)
            """
        }
        let config = """
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(folder.file("data"))
        http:
          addr: 127.0.0.1:\(port)
        \(authSection)

        """
        try config.write(toFile: folder.file("config.yml"), atomically: true, encoding: .utf8)
        process = try Background(["docker-registry", "serve", folder.file("config.yml")], log: folder.file("registry.log"))
        guard Tools.waitForPort(port) else {
            throw TestSetupError("docker-registry did not start on \(port): \(process?.log ?? "")")
        }
    }

    /// `skopeo copy --all oci:Fixtures/images/oci:REF docker://127.0.0.1:PORT/NAME:TAG`.
    func push(_ ref: String, as name: String, tag: String = "latest") throws {
        var arguments = ["skopeo", "copy", "--quiet", "--all", "--dest-tls-verify=false"]
        if auth != .none { arguments += ["--dest-creds", "\(Self.user):\(Self.password)"] }
        arguments += ["oci:\(CLI.packageRoot.path)/Fixtures/images/oci:\(ref)", "docker://\(host)/\(name):\(tag)"]
        let result = try Tools.run(arguments, environment: ["NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"], timeout: 120)
        guard result.status == 0 else { throw TestSetupError("skopeo copy \(ref) failed: \(result.output)") }
    }

    func stop() {
        process?.stop()
        issuer?.stop()
    }

    deinit { stop() }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A token server for the registry's token auth: checks Basic credentials and answers a JWT
/// (RS256, with its certificate in `x5c`) granting the scopes asked for. The registry trusts
/// the certificate through `rootcertbundle`. Anonymous requests get a token granting nothing.
final class TokenIssuer: @unchecked Sendable {
    static let service = "residue-test-registry"
    static let issuerName = "residue-test-issuer"

    let certificatePath: String
    let keyPath: String
    let certificateDER: String
    private var server: TinyHTTP!
    private let lock = NSLock()
    private(set) var issued = 0
    var port: Int { server.port }

    init(folder: TemporaryFolder) throws {
        keyPath = folder.file("token.key")
        certificatePath = folder.file("token.crt")
        let made = try Tools.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath,
                                  "-out", certificatePath, "-days", "2", "-subj", "/CN=residue-test-token"])
        guard made.status == 0 else { throw TestSetupError("openssl req failed: \(made.output)") }
        let der = folder.file("token.der")
        let converted = try Tools.run(["openssl", "x509", "-in", certificatePath, "-outform", "DER", "-out", der])
        guard converted.status == 0, let bytes = FileManager.default.contents(atPath: der) else {
            throw TestSetupError("openssl x509 failed: \(converted.output)")
        }
        certificateDER = bytes.base64EncodedString()
        server = try TinyHTTP { [unowned self] fd, request in self.handle(fd, request) }
    }

    func stop() { server.stop() }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func handle(_ fd: Int32, _ request: TinyHTTP.Request) {
        let query = URLComponents(string: "http://x\(request.path)")?.queryItems ?? []
        let expected = "Basic " + Data("\(LocalRegistry.user):\(LocalRegistry.password)".utf8).base64EncodedString()
        var access: [[String: Any]] = []
        if let authorization = request.headers["authorization"] {
            guard authorization == expected else {
                TinyHTTP.respond(fd, status: 401, reason: "Unauthorized")
                return
            }
            for item in query where item.name == "scope" {
                for scope in (item.value ?? "").split(separator: " ") {
                    let parts = scope.split(separator: ":")
                    guard parts.count >= 3 else { continue }
                    access.append(["type": String(parts[0]), "name": parts[1..<(parts.count - 1)].joined(separator: ":"),
                                   "actions": parts[parts.count - 1].split(separator: ",").map(String.init)])
                }
            }
        }
        let now = Int(Date().timeIntervalSince1970)
        let header: [String: Any] = ["typ": "JWT", "alg": "RS256", "x5c": [certificateDER]]
        let claims: [String: Any] = ["iss": Self.issuerName, "sub": LocalRegistry.user, "aud": Self.service,
                                     "exp": now + 600, "nbf": now - 60, "iat": now - 60, "jti": UUID().uuidString,
                                     "access": access]
        guard let headerJSON = try? JSONSerialization.data(withJSONObject: header),
              let claimsJSON = try? JSONSerialization.data(withJSONObject: claims) else { return }
        let signingInput = Self.base64URL(headerJSON) + "." + Self.base64URL(claimsJSON)
        // The signature goes to a file: binary output through the tool's log would be mangled.
        let sigPath = keyPath + ".\(UUID().uuidString).sig"
        let signed = try? Tools.run(["openssl", "dgst", "-sha256", "-sign", keyPath, "-binary", "-out", sigPath],
                                    input: Data(signingInput.utf8))
        guard signed?.status == 0, let signatureBytes = FileManager.default.contents(atPath: sigPath) else {
            TinyHTTP.respond(fd, status: 500, reason: "Internal Server Error")
            return
        }
        try? FileManager.default.removeItem(atPath: sigPath)
        let token = signingInput + "." + Self.base64URL(signatureBytes)
        lock.withLock { issued += 1 }
        let body = try? JSONSerialization.data(withJSONObject: ["token": token, "access_token": token, "expires_in": 600])
        TinyHTTP.respond(fd, status: 200, reason: "OK", headers: ["Content-Type": "application/json"], body: Array(body ?? Data()))
    }
}
