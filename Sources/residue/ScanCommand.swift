import ArgumentParser
import Foundation
import ResidueImage
import ResidueRules
import ResidueScan

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Severity: ExpressibleByArgument {}

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan an image for leaked secrets.",
        discussion: """
        IMAGE uses the transport syntax of skopeo and podman:
          docker-archive:PATH[:NAME:TAG|:@N]  `docker save` output
          oci:DIR[:REF]                       an OCI image layout directory
          oci-archive:PATH[:REF]              an OCI layout as one tar
          docker://[REGISTRY/]REPO[:TAG|@DIGEST]  an image in a registry
          docker-daemon:NAME[:TAG]            an image in the Docker daemon ($DOCKER_HOST)
          PATH                                a file or folder (format sniffed)
        Every platform of a multi-platform image is scanned unless --platform
        is given. Exit codes: 0 nothing at or above --fail-on, 1 findings,
        2 the image could not be scanned.
        """
    )

    @Argument(help: "The image to scan (see below).")
    var image: String

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(name: .long, help: "Print secrets in clear instead of redacted.")
    var showSecrets = false

    @Option(name: .long, help: "Scan only this platform, as os/arch[/variant] (e.g. linux/arm64).")
    var platform: String?

    @Option(name: .long, help: "Exit 1 when a finding is at or above this severity: low, medium, high, critical.")
    var failOn: Severity = .low

    @Option(name: .long, help: "An extra rule file (TOML); repeat for more.")
    var rules: [String] = []

    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: "The Dockerfile the image was built from: each finding gets the line that caused it.")
    var dockerfile: String?

    @Flag(name: .long, help: "Never colour the text output (also: NO_COLOR set, or output not a terminal).")
    var noColor = false

    @OptionGroup(title: "Registries and daemon") var registry: RegistryOptions

    func run() throws {
        var options = ScanOptions()
        options.showSecrets = showSecrets
        options.registry = try registry.settings()
        if let platform {
            guard let parsed = Platform(platform) else {
                throw CLIError("--platform \(platform): expected os/arch[/variant], e.g. linux/amd64")
            }
            options.platform = parsed
        }
        let ruleSet: RuleSet
        do {
            ruleSet = try RuleSet.defaults(extraFiles: rules)
        } catch {
            throw CLIError("\(error)")
        }
        let reference: ImageReference
        do {
            reference = try ImageReference.parse(image)
        } catch {
            throw CLIError("\(error)")
        }
        var report: ScanReport
        do {
            report = try Scanner(ruleSet: ruleSet, options: options).scan(reference)
        } catch {
            throw CLIError("\(error)")
        }
        if let dockerfile { try attachDockerfile(dockerfile, reference: reference, platform: options.platform, to: &report) }
        let toTerminal = output == nil && isatty(STDOUT_FILENO) != 0
        let color = toTerminal && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        let reporter: Reporter = format == .json ? JSONReporter() : TextReporter(color: color)
        let text = try reporter.render(report)
        if let output {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                chmod(output, 0o600)
            } catch {
                throw CLIError("cannot write report to \(output): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if report.hasFindings(atOrAbove: failOn) { throw ExitCode(1) }
    }
}
