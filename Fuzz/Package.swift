// swift-tools-version:6.0
// libFuzzer targets for residue's parsers. Not part of the main build: scripts/fuzz.sh builds
// them with -sanitize=fuzzer,address and runs each for a set time.
import PackageDescription

let fuzzTargets = ["FuzzHistory", "FuzzImageJSON", "FuzzLayer", "FuzzDockerfile", "FuzzRules"]

let package = Package(
    name: "residue-fuzz",
    dependencies: [.package(name: "residue", path: "..")],
    targets: [.target(name: "FuzzDriver")] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzDriver", .product(name: "ResidueKit", package: "residue")],
            path: "Sources/\(name)",
            // Each target defines NAME_main (SwiftPM's entry point) calling LLVMFuzzerRunDriver.
            // Only these executables link libFuzzer: the rest of the build (the rules-embedding
            // tool has its own main) gets coverage instrumentation from scripts/fuzz.sh's flags.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])]
        )
    }
)
