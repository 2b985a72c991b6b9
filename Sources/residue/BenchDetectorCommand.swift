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

    func run() throws {
        let matcher = Matcher(try RuleSet.defaults())
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

    static func cpuTime() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
