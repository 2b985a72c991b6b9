import ArgumentParser
import Foundation
import ResidueImage
import ResidueRules
import ResidueScan

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
        is given. A .residue.toml in the current folder (or --config) adds rules,
        allowlists and thresholds. Exit codes: 0 nothing at or above --fail-on,
        1 findings, 2 the image could not be scanned.
        """
    )

    @Argument(help: "The image to scan (see below).")
    var image: String

    @Flag(name: .long, help: "Print secrets in clear instead of redacted.")
    var showSecrets = false

    @Option(name: .long, help: "Scan only this platform, as os/arch[/variant] (e.g. linux/arm64).")
    var platform: String?

    @Option(name: .long, help: "An extra rule file (TOML); repeat for more.")
    var rules: [String] = []

    @Option(name: .long, help: "The Dockerfile the image was built from: each finding gets the line that caused it.")
    var dockerfile: String?

    @OptionGroup(title: "Report")
    var report: ReportOptions

    @OptionGroup(title: "Registries and daemon") var registry: RegistryOptions

    @OptionGroup(title: "Limits (each one reached is reported as skipped)") var limits: LimitOptions

    @OptionGroup(title: "Cache") var cache: CacheOptions

    func run() throws {
        var options = ScanOptions()
        options.showSecrets = showSecrets
        try limits.apply(to: &options.limits)
        options.registry = try registry.settings()
        if let platform {
            guard let parsed = Platform(platform) else {
                throw CLIError("--platform \(platform): expected os/arch[/variant], e.g. linux/amd64")
            }
            options.platform = parsed
        }
        let config = try report.loadConfig()
        let baseline = try report.loadBaseline()
        let ruleSet: RuleSet
        do {
            ruleSet = try (config ?? ProjectConfig()).ruleSet(extraFiles: rules)
        } catch {
            throw CLIError("\(error)")
        }
        cache.apply(to: &options, ruleSet: ruleSet)
        // Allowlist regexes and stopwords test secrets in clear, which the layer cache does not keep.
        let policy = ReportPolicy(config: config, baseline: baseline, minConfidence: report.minConfidence)
        options.needsClearSecret = { policy.needsClearSecret(ruleId: $0) }
        let reference: ImageReference
        do {
            reference = try ImageReference.parse(DockerPlugin.isActive ? DockerPlugin.defaultToDaemon(image) : image)
        } catch {
            throw CLIError("\(error)")
        }
        let progress = report.progressLine(label: reference.description)
        options.progress = progress?.handler
        var scanReport: ScanReport
        do {
            scanReport = try Scanner(ruleSet: ruleSet, options: options).scan(reference)
            progress?.finish()
        } catch {
            progress?.finish()
            throw CLIError("\(error)")
        }
        if let dockerfile { try attachDockerfile(dockerfile, to: &scanReport) }
        scanReport = policy.apply(to: scanReport)
        let reporter = report.reporter(toolVersion: Residue.configuration.version, baselineApplied: baseline != nil)
        try report.deliver(try reporter.render(scanReport))
        if scanReport.hasFindings(atOrAbove: report.threshold(config)) { throw ExitCode(1) }
    }
}
