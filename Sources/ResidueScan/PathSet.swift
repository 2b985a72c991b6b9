import Foundation

/// A set of paths (a layer's writes, whiteouts or opaque directories), compared byte for byte.
/// While a layer is walked, a `Set`; read back from the layer cache, the stored bytes
/// themselves (paths sorted by their UTF-8 bytes, NUL-separated), searched in place by binary
/// search: a warm rescan asks about a handful of paths and should not build
/// ~90,000 Strings to do it (that was 17% of it).
public struct PathSet: Sendable, ExpressibleByArrayLiteral {
    private var walked: Set<ExactPath> = []
    private var packed: Packed?

    /// Sorted, NUL-separated path bytes and where each path starts.
    final class Packed: Sendable {
        let bytes: [UInt8]
        let starts: [Int]

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            var starts = [0]
            for (offset, byte) in bytes.enumerated() where byte == 0 { starts.append(offset + 1) }
            self.starts = starts
        }

        var count: Int { starts.count }

        func path(at index: Int) -> ArraySlice<UInt8> {
            let end = index + 1 < starts.count ? starts[index + 1] - 1 : bytes.count
            return bytes[starts[index]..<end]
        }

        func contains(_ path: [UInt8]) -> Bool {
            var low = 0, high = starts.count - 1
            while low <= high {
                let middle = (low + high) / 2
                let candidate = self.path(at: middle)
                if candidate.elementsEqual(path) { return true }
                if candidate.lexicographicallyPrecedes(path) { low = middle + 1 } else { high = middle - 1 }
            }
            return false
        }
    }

    public init() {}
    public init(arrayLiteral paths: String...) { walked = Set(paths.map(ExactPath.init)) }
    public init<Paths: Sequence>(_ paths: Paths) where Paths.Element == String { walked = Set(paths.map(ExactPath.init)) }

    /// Reads what `packedBytes` wrote.
    public init(packed bytes: [UInt8]) {
        packed = bytes.isEmpty ? nil : Packed(bytes)
    }

    public func contains(_ path: String) -> Bool {
        if walked.contains(ExactPath(path)) { return true }
        guard let packed else { return false }
        return packed.contains(Array(path.utf8))
    }

    public mutating func insert(_ path: String) { walked.insert(ExactPath(path)) }

    public var count: Int { walked.count + (packed?.count ?? 0) }

    /// Every path, sorted by UTF-8 bytes (not String order, which compares Unicode-normalised
    /// text), joined by NUL — a byte a tar entry name cannot hold.
    public var packedBytes: [UInt8] {
        var paths = walked.map { Array($0.text.utf8) }
        if let packed { for index in 0..<packed.count { paths.append(Array(packed.path(at: index))) } }
        paths.sort { $0.lexicographicallyPrecedes($1) }
        var bytes: [UInt8] = []
        var previous: [UInt8]?
        for path in paths where path != previous {
            if previous != nil { bytes.append(0) }
            bytes += path
            previous = path
        }
        return bytes
    }
}

/// A path compared byte for byte. Swift compares Strings by Unicode canonical equivalence (a
/// precomposed "é" equals "e" plus a combining accent), but a tar can hold both spellings as two
/// different files: a whiteout of one must not delete the other.
struct ExactPath: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (left: ExactPath, right: ExactPath) -> Bool { left.text.utf8.elementsEqual(right.text.utf8) }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
