import ArgumentParser
import Foundation
import ResidueScan

/// Bounds on what one scan reads from untrusted images. Each limit reached is reported as a
/// `skipped` entry (JSON summary, text footer), never a silent truncation.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Scan at most SIZE bytes of each file (e.g. 512MiB, 2GiB).", valueName: "size"))
    var maxFileSize: ByteSize?

    @Option(name: .long, help: ArgumentHelp("Stop a layer after SIZE uncompressed bytes (default 32GiB).", valueName: "size"))
    var maxLayerSize: ByteSize?

    @Option(name: .long, help: ArgumentHelp("Open archives inside layers to this depth (default 3).", valueName: "n"))
    var maxDepth: Int?

    @Option(name: .long, help: ArgumentHelp("Read at most N entries per layer and per archive inside it (default 1000000).", valueName: "n"))
    var maxEntries: Int?

    func apply(to limits: inout ScanLimits) throws {
        if let maxFileSize { limits.maxFileBytes = maxFileSize.bytes }
        if let maxLayerSize { limits.maxLayerBytes = maxLayerSize.bytes }
        if let maxDepth {
            guard maxDepth >= 0 else { throw CLIError("--max-depth must be 0 or more") }
            limits.maxNestingDepth = maxDepth
        }
        if let maxEntries {
            guard maxEntries > 0 else { throw CLIError("--max-entries must be at least 1") }
            limits.maxEntries = maxEntries
        }
    }
}

/// `4096`, `64KiB`, `512MiB`, `2GiB` (also KB/MB/GB as powers of 1000, and k/m/g as binary).
struct ByteSize: ExpressibleByArgument {
    let bytes: Int64

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber }
        guard let value = Int64(digits), value > 0 else { return nil }
        let units: [String: Int64] = ["": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 1000, "m": 1 << 20, "mib": 1 << 20,
                                      "mb": 1_000_000, "g": 1 << 30, "gib": 1 << 30, "gb": 1_000_000_000, "t": 1 << 40, "tib": 1 << 40]
        guard let unit = units[text.dropFirst(digits.count).lowercased()] else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        bytes = product
    }
}
