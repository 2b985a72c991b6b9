import ArgumentParser
import Foundation
import ResidueImage

/// How to reach registries and the Docker daemon (skopeo's flag names).
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: "Registry credentials as USER:PASS (otherwise: --authfile, $REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json).")
    var creds: String?

    @Option(name: .long, help: "An auth file (docker config.json format) to read first.")
    var authfile: String?

    @Option(name: .customLong("tls-verify"), help: "Verify TLS certificates; false also allows plain-http registries (--tls-verify=false).")
    var tlsVerify: Bool = true

    @Option(name: .long, help: "Attempts per request before giving up (429, 5xx, resets, truncated bodies are retried).")
    var retries: Int = 5

    func settings() throws -> RegistrySettings {
        var settings = RegistrySettings()
        if let creds {
            guard let parsed = RegistrySettings.Credentials(creds) else { throw CLIError("--creds: expected USER:PASS") }
            settings.credentials = parsed
        }
        settings.authFile = authfile
        settings.tlsVerify = tlsVerify
        guard retries >= 1 else { throw CLIError("--retries: at least 1") }
        settings.retry.attempts = retries
        if let base = ProcessInfo.processInfo.environment["RESIDUE_RETRY_BASE_DELAY"], let seconds = Double(base) {
            settings.retry.baseDelay = seconds
        }
        return settings
    }
}
