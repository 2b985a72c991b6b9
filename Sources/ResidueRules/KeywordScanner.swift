import CHyperscan
import Foundation

/// Finds every keyword of every rule in one pass over a buffer (ASCII case-insensitive), so a
/// rule's regex runs only around the places where one of its keywords occurs.
///
/// The pass is Hyperscan's literal matcher (SIMD, many keywords at once): it sees every byte of
/// every layer, so it decides the detector's speed. Measured on the benchmark's 1.5 GB of
/// uncompressed layers with the 390 default keywords: 1.7 GB/s, where the Aho–Corasick DFA it
/// replaced (4 interleaved lanes, byte classes, 16-bit table) reached 0.7 GB/s.
///
/// Hits are reported by keyword id: `keywordsIfAccepting(id)` is `[id]` (the name remains from
/// the automaton, whose accepting states could stand for several keywords).
///
/// Keywords longer than `longestLiteral` bytes are looked for by their first `longestLiteral`
/// bytes (a prefilter may report more, never less): Hyperscan 5.4's literal API builds, for
/// some longer literals (a run of one byte at the end, from 38 bytes on; e.g. `ldap_…` followed
/// by `*`s, found by fuzzing rule files; secrets to mask are keywords too), a database whose
/// scan fails with HS_UNKNOWN_ERROR once the literal occurs. A sweep of 18,340 such literals up
/// to 32 bytes never failed. `keywordLengths` are the lengths searched for, so spans computed
/// from a hit's end stay right (the prefix ends inside the keyword, inside the match).
public struct KeywordScanner: Sendable {
    public static let longestLiteral = 32
    public let keywordLengths: [Int]
    public let keywordCount: Int
    public let maxKeywordLength: Int
    /// nil when there are no keywords (Hyperscan refuses an empty database).
    let database: Database?

    /// A compiled Hyperscan database: immutable, shared by every thread.
    final class Database: @unchecked Sendable {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { hs_free_database(pointer) }
    }

    public init(keywords: [String]) {
        keywordCount = keywords.count
        keywordLengths = keywords.map { min($0.utf8.count, Self.longestLiteral) }
        maxKeywordLength = keywordLengths.max() ?? 0
        guard !keywords.isEmpty else {
            database = nil
            return
        }
        // Literal mode: keyword bytes are matched as they are, no regex syntax to escape.
        let literals: [UnsafePointer<CChar>?] = keywords.map { keyword in
            let bytes = keyword.utf8.prefix(Self.longestLiteral)
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            for (offset, byte) in bytes.enumerated() { copy[offset] = CChar(bitPattern: byte) }
            return UnsafePointer(copy)
        }
        defer { for literal in literals { UnsafeMutablePointer(mutating: literal!).deallocate() } }
        let flags = [UInt32](repeating: UInt32(HS_FLAG_CASELESS), count: keywords.count)
        let ids = (0..<keywords.count).map { UInt32($0) }
        var compiled: OpaquePointer?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let status = hs_compile_lit_multi(literals, flags, ids, keywordLengths, UInt32(keywords.count), UInt32(HS_MODE_BLOCK),
                                          nil, &compiled, &error)
        guard status == HS_SUCCESS, let compiled else {
            // Keywords are plain literals from validated rules: a failure here is a bug (or no
            // SSSE3), not bad input. Say which and stop rather than scan without a prefilter.
            let message = error.map { String(cString: $0.pointee.message) } ?? "status \(status)"
            if let error { hs_free_compile_error(error) }
            fatalError("Hyperscan could not compile the rule keywords: \(message)")
        }
        database = Database(compiled)
    }

    /// The keyword ids a hit reported as `state` stands for.
    public func keywordsIfAccepting(_ state: Int32) -> [Int32]? {
        state >= 0 && Int(state) < keywordCount ? [state] : nil
    }

    /// Marks `found[id] = true` for each keyword present in `bytes`. `scratch` lends its
    /// Hyperscan scratch space (its hits are left alone).
    public func scan(_ bytes: UnsafeRawBufferPointer, found: inout [Bool], scratch: KeywordHits) {
        guard let database else { return }
        let ran = found.withUnsafeMutableBufferPointer { flags in
            var context = flags
            return withUnsafeMutablePointer(to: &context) { pointer in
                scratch.run(database, bytes, context: UnsafeMutableRawPointer(pointer)) { id, _, _, _, context in
                    context!.assumingMemoryBound(to: UnsafeMutableBufferPointer<Bool>.self).pointee[Int(id)] = true
                    return 0
                }
            }
        }
        if !ran { found = [Bool](repeating: true, count: found.count) }
    }

    /// Records every place a keyword ends in `bytes`, in position order: (end offset, keyword
    /// id). When more hits occur than `hits` holds, `hits.overflowed` is set (and the pass
    /// stops): the caller then treats every keyword as present everywhere.
    public func scan(_ bytes: UnsafeRawBufferPointer, into hits: KeywordHits) {
        hits.reset()
        guard let database else { return }
        let ran = hits.run(database, bytes, context: Unmanaged.passUnretained(hits).toOpaque()) { id, _, to, _, context in
            let hits = Unmanaged<KeywordHits>.fromOpaque(context!).takeUnretainedValue()
            return hits.append(position: Int(to) - 1, state: Int32(bitPattern: id)) ? 0 : 1
        }
        if !ran { hits.markOverflowed() }
        hits.sortIfNeeded()
    }
}

/// Where keywords ended in one buffer: (end offset, keyword id) pairs in position order, and
/// the Hyperscan scratch space the pass needs. One per thread, reused across buffers; bounded:
/// past `capacity` hits it only notes overflow.
public final class KeywordHits {
    private var positions: UnsafeMutablePointer<UInt32>
    private var states: UnsafeMutablePointer<Int32>
    private let capacity: Int
    public private(set) var count = 0
    public private(set) var overflowed = false
    private var scratch: OpaquePointer?
    /// The databases `scratch` has been sized for.
    private var fitted: [OpaquePointer] = []

    public init(capacity: Int = 1 << 18) {
        self.capacity = capacity
        positions = .allocate(capacity: capacity)
        states = .allocate(capacity: capacity)
    }

    deinit {
        positions.deallocate()
        states.deallocate()
        if let scratch { hs_free_scratch(scratch) }
    }

    func reset() {
        overflowed = false
        count = 0
    }

    fileprivate func markOverflowed() { overflowed = true }

    /// Adds a hit; false (stop the pass) once full.
    @inline(__always) fileprivate func append(position: Int, state: Int32) -> Bool {
        guard count < capacity else {
            overflowed = true
            return false
        }
        positions[count] = UInt32(truncatingIfNeeded: position)
        states[count] = state
        count += 1
        return true
    }

    /// Hyperscan reports literal matches by end offset; this keeps the promise of position
    /// order even if a future engine interleaves them.
    fileprivate func sortIfNeeded() {
        guard count > 1 else { return }
        var ordered = true
        for slot in 1..<count where positions[slot] < positions[slot - 1] {
            ordered = false
            break
        }
        if ordered { return }
        let pairs = (0..<count).map { (positions[$0], states[$0]) }.sorted { $0.0 < $1.0 }
        for (slot, pair) in pairs.enumerated() {
            positions[slot] = pair.0
            states[slot] = pair.1
        }
    }

    /// Runs `database` over `bytes` with `callback`. Buffers are scan windows (a few MiB),
    /// config values and history lines: far below Hyperscan's 32-bit length.
    /// Returns false when Hyperscan could not run (no scratch space, a scan error): the caller
    /// then assumes every keyword is present (slower, never a missed secret). Found by fuzzing
    /// rule files: one mutated file made hs_scan fail, which used to stop the process.
    @discardableResult
    fileprivate func run(_ database: KeywordScanner.Database, _ bytes: UnsafeRawBufferPointer,
                         context: UnsafeMutableRawPointer, callback: match_event_handler) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return true }
        guard bytes.count <= Int(UInt32.max) else { return false }
        if !fitted.contains(database.pointer) {
            guard hs_alloc_scratch(database.pointer, &scratch) == HS_SUCCESS else { return false }
            fitted.append(database.pointer)
        }
        let status = hs_scan(database.pointer, base.assumingMemoryBound(to: CChar.self), UInt32(bytes.count), 0, scratch,
                             callback, context)
        return status == HS_SUCCESS || status == HS_SCAN_TERMINATED
    }

    /// Calls `body(endOffset, keywordID)` for every hit, in position order.
    public func forEach(_ body: (Int, Int32) -> Void) {
        for slot in 0..<count { body(Int(positions[slot]), states[slot]) }
    }
}

/// Regexes run together by Hyperscan, saying which of them match a short text at all: the path
/// patterns of the path-scoped rules, checked for every file of every layer. One pass per path
/// instead of one PCRE2 match per pattern (3 µs per path with 19 rules, 0.2 s on the benchmark).
/// nil when Hyperscan cannot compile a pattern (its syntax is a subset of PCRE2's): the caller
/// then matches with PCRE2 alone.
public struct PatternSet: Sendable {
    let database: KeywordScanner.Database

    /// `patterns[i]` reports id `ids[i]`.
    public init?(patterns: [String], ids: [Int]) {
        guard !patterns.isEmpty else { return nil }
        let expressions: [UnsafePointer<CChar>?] = patterns.map { UnsafePointer(strdup($0)) }
        defer { for expression in expressions { free(UnsafeMutablePointer(mutating: expression)) } }
        let flags = [UInt32](repeating: UInt32(HS_FLAG_SINGLEMATCH), count: patterns.count)
        let ids = ids.map { UInt32($0) }
        var compiled: OpaquePointer?
        var error: UnsafeMutablePointer<hs_compile_error_t>?
        let status = hs_compile_multi(expressions, flags, ids, UInt32(patterns.count), UInt32(HS_MODE_BLOCK), nil, &compiled, &error)
        if let error { hs_free_compile_error(error) }
        guard status == HS_SUCCESS, let compiled else { return nil }
        database = KeywordScanner.Database(compiled)
    }

    /// The ids of the patterns that match somewhere in `text`.
    /// nil when Hyperscan could not run: the caller then checks every pattern itself.
    public func matches(_ text: String, scratch: KeywordHits) -> Set<Int>? {
        var found = Set<Int>()
        var text = text
        let ran = text.withUTF8 { bytes in
            withUnsafeMutablePointer(to: &found) { pointer in
                scratch.run(database, UnsafeRawBufferPointer(bytes), context: UnsafeMutableRawPointer(pointer)) { id, _, _, _, context in
                    context!.assumingMemoryBound(to: Set<Int>.self).pointee.insert(Int(id))
                    return 0
                }
            }
        }
        return ran ? found : nil
    }
}
