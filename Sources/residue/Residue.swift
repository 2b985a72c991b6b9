import ArgumentParser
import Foundation
import ResidueImage
import ResidueRules
import ResidueScan

struct Residue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "residue",
        abstract: "Find the secrets that container image builds leave behind.",
        discussion: """
        residue reads an image the way anyone who can pull it can: the config, the build history, and every \
        layer, including files a later layer deleted or overwrote. Each finding names the Dockerfile \
        instruction that put the secret there and the change that keeps it out.

        Exit codes: 0 nothing found at or above --fail-on, 1 findings, 2 the image could not be scanned.
        """,
        version: "0.1.0",
        subcommands: [Scan.self, DockerfileCheck.self, Audit.self, Report.self, Rules.self, Hook.self, BenchDetector.self]
    )
}
