import ArgumentParser
import Foundation
import ResidueCache
import ResidueRules
import ResidueScan

/// How a scan keeps and reuses layer results, and how many layers it reads at once.
struct CacheOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Where layer results are cached (default: $XDG_CACHE_HOME/residue, else ~/.cache/residue).",
        valueName: "dir"))
    var cacheDir: String?

    @Flag(name: .long, help: "Neither read nor write the layer cache.")
    var noCache = false

    @Option(name: .long, help: ArgumentHelp("Layers scanned at once (default: one per core).", visibility: .hidden))
    var parallelism: Int?

    func validate() throws {
        if let parallelism, parallelism < 1 { throw ValidationError("--parallelism must be at least 1") }
    }

    /// Sets `options.layerStore` and `options.parallelism`. A cache that cannot be opened is a
    /// warning (the scan goes on without it), never a failed scan.
    func apply(to options: inout ScanOptions, ruleSet: RuleSet) {
        if let parallelism { options.parallelism = parallelism }
        guard !noCache else { return }
        let directory = cacheDir.map { URL(fileURLWithPath: $0) } ?? SQLiteLayerStore.defaultDirectory
        do {
            options.layerStore = try SQLiteLayerStore(directory: directory, ruleSet: ruleSet, limits: options.limits)
        } catch {
            FileHandle.standardError.write(Data("residue: warning: layer cache disabled: \(error)\n".utf8))
        }
    }
}
