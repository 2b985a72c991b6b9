import ArgumentParser
import Foundation
import ResidueArchive
import ResidueRules

/// `residue bench-detector LAYER.tar…` (hidden; used by `make bench`): the detector alone.
/// Reads each uncompressed layer tar, feeds every regular file to the matcher in 4 MiB windows
/// (binary files to the key-block rules only, as a scan does) and times only the matcher, in
/// this thread's CPU time, so the figure holds on a busy machine.
struct BenchDetector: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-detector", abstract: "Measure the detector alone on uncompressed layer tars.",
        shouldDisplay: false)

    @Argument(help: "Uncompressed layer tars.")
    var tars: [String]

    @Option(name: .long, help: "Run only the rules of this file instead of the built-in rules (repeatable): what one rule file costs.")
    var only: [String] = []

    @Flag(name: .long, help: "Time each rule alone (the files are held in memory) and print the costliest: where a slowdown comes from.")
    var perRule = false

    @Option(name: .long, help: "With --per-rule: measure only the rules of this file (repeatable).")
    var of: [String] = []

    func run() throws {
        let rules = try only.isEmpty ? RuleLoader.defaultRules()
            : only.flatMap { path in
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw RuleError("\(path): cannot read rule file") }
                return try RuleLoader.parse(text, origin: path)
            }
        if perRule { return try timeEachRule(rules) }
        let matcher = Matcher(try RuleSet(rules))
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 16)
        defer { window.deallocate() }
        var bytes = 0, seconds = 0.0, matches = 0
        for tar in tars {
            let reader = try ArchiveReader(source: FileRangeSource(file: try SharedFile(path: tar)), formats: .tar, what: tar)
            while let entry = try reader.nextEntry() {
                guard entry.kind == .regular, entry.size > 0 else { continue }
                var binary: Bool?
                while true {
                    var filled = 0
                    while filled < window.count {
                        let count = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: window[filled...]))
                        if count == 0 { break }
                        filled += count
                    }
                    if filled == 0 { break }
                    let buffer = UnsafeRawBufferPointer(rebasing: window[0..<filled])
                    if binary == nil { binary = UnsafeRawBufferPointer(rebasing: buffer.prefix(8000)).contains(0) }
                    let start = Self.cpuTime()
                    matches += matcher.scan(buffer, path: entry.name, binary: binary!).count
                    seconds += Self.cpuTime() - start
                    bytes += filled
                    if filled < window.count { break }
                }
            }
        }
        print(String(format: "detector: %.0f MB in %.3f s CPU = %.0f MB/s (%d matches, %d rules)",
                     Double(bytes) / 1e6, seconds, Double(bytes) / 1e6 / seconds, matches, matcher.ruleSet.rules.count))
    }

    /// Every regular file's first 4 MiB in memory, with its name and whether it is binary.
    func loadFiles() throws -> [(bytes: [UInt8], path: String, binary: Bool)] {
        var files: [(bytes: [UInt8], path: String, binary: Bool)] = []
        for tar in tars {
            let reader = try ArchiveReader(source: FileRangeSource(file: try SharedFile(path: tar)), formats: .tar, what: tar)
            while let entry = try reader.nextEntry() {
                guard entry.kind == .regular, entry.size > 0 else { continue }
                let bytes = try reader.readPrefix(count: Int(min(entry.size, 4 << 20)))
                files.append((bytes, entry.name, bytes.prefix(8000).contains(0)))
            }
        }
        return files
    }

    /// What each rule adds to the whole set: the set's time less the time without that rule
    /// (best of 3 each), for the rules of the `--of` files (default: all). The 20 costliest.
    func timeEachRule(_ rules: [Rule]) throws {
        let files = try loadFiles()
        func time(_ set: RuleSet) -> Double {
            let matcher = Matcher(set)
            var best = Double.infinity
            for _ in 0..<3 {
                let start = Self.cpuTime()
                for file in files { file.bytes.withUnsafeBytes { _ = matcher.scan($0, path: file.path, binary: file.binary) } }
                best = min(best, Self.cpuTime() - start)
            }
            return best
        }
        var measured = Set(rules.map(\.id))
        if !of.isEmpty {
            measured = Set(try of.flatMap { try RuleLoader.parse(String(contentsOfFile: $0, encoding: .utf8), origin: $0) }.map(\.id))
        }
        let whole = time(try RuleSet(rules))
        var costs: [(String, Double)] = []
        for rule in rules where measured.contains(rule.id) {
            costs.append((rule.id, whole - time(try RuleSet(rules.filter { $0.id != rule.id }))))
        }
        for (id, cost) in costs.sorted(by: { $0.1 > $1.1 }).prefix(20) { print(String(format: "%8.1f ms  %@", cost * 1000, id)) }
        print(String(format: "whole set: %.0f ms", whole * 1000))
    }

    static func cpuTime() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
