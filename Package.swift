// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "residue",
    products: [
        .executable(name: "residue", targets: ["residue"]),
        // The libraries, for the fuzz targets in Fuzz/ (a separate package, see scripts/fuzz.sh).
        .library(name: "ResidueKit", targets: ["ResidueArchive", "ResidueImage", "ResidueRules", "ResidueScan", "ResidueDockerfile"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        // C libraries from Debian (libarchive-dev, libpcre2-dev, libssl-dev, libcurl4-openssl-dev, libsqlite3-dev), each behind a shim header.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // HTTP for registries and the Docker Engine API (libcurl4-openssl-dev): see Sources/ResidueImage/Registry/HTTP.swift.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The layer cache (libsqlite3-dev): see Sources/ResidueCache/SQLiteLayerStore.swift.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The keyword prefilter (libhyperscan-dev on amd64, libvectorscan-dev elsewhere: same API,
        // same libhs.pc): see Sources/ResidueRules/KeywordScanner.swift.
        .systemLibrary(name: "CHyperscan", pkgConfig: "libhs", providers: [.apt(["libhyperscan-dev"])]),

        // Gzip inflate for layers (libisal-dev, Intel ISA-L): see Sources/ResidueArchive/GzipSource.swift.
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),

        // Byte streams, SHA-256 and libarchive: everything that reads bytes.
        .target(name: "ResidueArchive", dependencies: ["CArchive", "CCrypto", "CISAL"]),
        // The image model and its sources (docker-archive, oci, oci-archive, docker://, docker-daemon:), history parsing.
        .target(name: "ResidueImage", dependencies: ["ResidueArchive", "CCurl"]),
        // Rules as data, PCRE2, keyword prefilter, entropy: finds secrets in bytes.
        .target(
            name: "ResidueRules",
            dependencies: ["CPCRE2", "CHyperscan", "TOMLKit"],
            plugins: ["EmbedRules"]
        ),
        // The scan: layer walking, file status, findings, remediation, reports.
        .target(name: "ResidueScan", dependencies: ["ResidueImage", "ResidueRules", "ResidueArchive", "TOMLKit"]),
        // Layer results kept across runs (SQLite, by layer digest and rule-set version; no secret in clear).
        .target(name: "ResidueCache", dependencies: ["ResidueScan", "ResidueArchive", "CSQLite"]),
        // Dockerfiles: the parser, the leak linter and the fixer (`residue dockerfile`), and lining
        // image history up with Dockerfile lines (`residue scan --dockerfile`).
        .target(name: "ResidueDockerfile", dependencies: ["ResidueScan", "ResidueImage", "ResidueRules", "ResidueArchive"]),
        // The command line: parses arguments and calls ResidueScan.
        .executableTarget(
            name: "residue",
            dependencies: [
                "ResidueScan", "ResidueCache", "ResidueDockerfile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Builds the default rules from Rules/*.toml into the binary.
        .executableTarget(name: "EmbedRulesTool", path: "Sources/EmbedRulesTool"),
        .plugin(name: "EmbedRules", capability: .buildTool(), dependencies: ["EmbedRulesTool"]),

        .testTarget(
            name: "ResidueTests",
            dependencies: ["ResidueScan", "ResidueImage", "ResidueRules", "ResidueArchive", "ResidueCache", "ResidueDockerfile"]
        ),
    ]
)
