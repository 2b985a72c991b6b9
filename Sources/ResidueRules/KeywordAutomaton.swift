/// Finds every keyword of every rule in one pass over a buffer (Aho–Corasick, compiled to a
/// full DFA, ASCII case folded). A rule's regex runs only around the places where one of its
/// keywords occurs: one pass for all keywords, not one `memmem` per keyword.
///
/// Built for speed (this loop sees every byte of every layer):
/// - bytes that occur in no keyword share one column (byte classes), so the table is
///   states × classes, 16-bit when it fits: a few tens of KB that stay in L1;
/// - table entries are the next state's row offset (pre-multiplied), and accepting states are
///   numbered last, so "did a keyword end here" is one comparison;
/// - a large buffer is cut into four lanes scanned in the same loop: four independent chains
///   of table loads keep the CPU busy where one chain would wait on each load's latency.
public struct KeywordAutomaton: Sendable {
    /// byte → column.
    private let classOf: [UInt8]
    private let classCount: Int
    /// Row-offset tables; `narrow` is used when every offset fits 16 bits.
    private let narrow: [UInt16]
    private let wide: [UInt32]
    /// Row offsets at or above this are accepting states.
    private let acceptOffset: Int
    /// For each accepting state (by state number − first accepting number), the keyword ids
    /// that end there (through failure links too).
    private let outputs: [[Int32]]
    private let firstAccepting: Int
    /// Length in bytes of each keyword.
    public let keywordLengths: [Int]
    public let keywordCount: Int
    public let maxKeywordLength: Int
    /// Number of DFA states (for tests and diagnostics).
    public let stateCount: Int

    public init(keywords: [String]) {
        keywordCount = keywords.count
        keywordLengths = keywords.map { $0.utf8.count }
        maxKeywordLength = keywordLengths.max() ?? 0

        // Byte classes: one per distinct (folded) keyword byte, one for every other byte.
        var classOf = [UInt8](repeating: 0, count: 256)
        var classCount = 1
        for keyword in keywords {
            for byte in keyword.utf8 {
                let folded = Self.fold(byte)
                if classOf[Int(folded)] == 0 {
                    guard classCount < 255 else { continue }
                    classOf[Int(folded)] = UInt8(classCount)
                    classCount += 1
                }
            }
        }
        for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") { classOf[Int(upper)] = classOf[Int(upper | 0x20)] }
        self.classOf = classOf
        self.classCount = classCount

        // Trie over folded bytes.
        var goto: [[UInt8: Int32]] = [[:]]
        var out: [[Int32]] = [[]]
        for (id, keyword) in keywords.enumerated() {
            var state: Int32 = 0
            for byte in keyword.utf8 {
                let folded = Self.fold(byte)
                if let next = goto[Int(state)][folded] {
                    state = next
                } else {
                    goto.append([:])
                    out.append([])
                    let next = Int32(goto.count - 1)
                    goto[Int(state)][folded] = next
                    state = next
                }
            }
            out[Int(state)].append(Int32(id))
        }
        // Breadth-first: failure links and the full table (by class).
        let stateCount = goto.count
        self.stateCount = stateCount
        var fail = [Int32](repeating: 0, count: stateCount)
        var table = [Int32](repeating: 0, count: stateCount * classCount)
        // A representative folded byte per class (class 0: a byte in no keyword).
        var representative = [UInt8](repeating: 0, count: classCount)
        var seenClass = [Bool](repeating: false, count: classCount)
        for byte in 0..<256 where !seenClass[Int(classOf[byte])] && Self.fold(UInt8(byte)) == UInt8(byte) {
            seenClass[Int(classOf[byte])] = true
            representative[Int(classOf[byte])] = UInt8(byte)
        }
        var queue: [Int32] = []
        for column in 0..<classCount {
            if let next = goto[0][representative[column]], column != 0 {
                table[column] = next
                queue.append(next)
            }
        }
        var head = 0
        while head < queue.count {
            let state = Int(queue[head])
            head += 1
            out[state] += out[Int(fail[state])]
            for column in 0..<classCount {
                if column != 0, let next = goto[state][representative[column]] {
                    fail[Int(next)] = table[Int(fail[state]) * classCount + column]
                    table[state * classCount + column] = next
                    queue.append(next)
                } else {
                    table[state * classCount + column] = table[Int(fail[state]) * classCount + column]
                }
            }
        }
        // Renumber: non-accepting states first (the start state stays 0), accepting last.
        var order: [Int] = (0..<stateCount).filter { out[$0].isEmpty }
        firstAccepting = order.count
        order += (0..<stateCount).filter { !out[$0].isEmpty }
        var number = [Int](repeating: 0, count: stateCount)
        for (new, old) in order.enumerated() { number[old] = new }
        var offsets = [UInt32](repeating: 0, count: stateCount * classCount)
        for old in 0..<stateCount {
            for column in 0..<classCount {
                offsets[number[old] * classCount + column] = UInt32(number[Int(table[old * classCount + column])] * classCount)
            }
        }
        acceptOffset = firstAccepting * classCount
        outputs = order[firstAccepting...].map { out[$0] }
        if stateCount * classCount <= Int(UInt16.max) {
            narrow = offsets.map { UInt16($0) }
            wide = []
        } else {
            narrow = []
            wide = offsets
        }
    }

    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte | 0x20 : byte
    }

    /// The keyword ids that end in accepting state `state` (as reported in a `KeywordHits`;
    /// accepting states are numbered from 0), or nil past the last one.
    public func keywordsIfAccepting(_ state: Int32) -> [Int32]? {
        state >= 0 && Int(state) < outputs.count ? outputs[Int(state)] : nil
    }

    /// Marks `found[id] = true` for each keyword present in `bytes`.
    public func scan(_ bytes: UnsafeRawBufferPointer, found: inout [Bool]) {
        let hits = KeywordHits(capacity: 1 << 12)
        scan(bytes, into: hits)
        if hits.overflowed {
            // Dense: fall back to one lane that only marks keywords.
            flagScan(bytes, found: &found)
            return
        }
        hits.forEach { _, state in
            for id in outputs[Int(state)] { found[Int(id)] = true }
        }
    }

    private func flagScan(_ bytes: UnsafeRawBufferPointer, found: inout [Bool]) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        classOf.withUnsafeBufferPointer { classes in
            var offset = 0
            for position in 0..<bytes.count {
                let column = Int(classes[Int(base[position])])
                offset = narrow.isEmpty ? Int(wide[offset + column]) : Int(narrow[offset + column])
                if offset >= acceptOffset {
                    for id in outputs[offset / classCount - firstAccepting] { found[Int(id)] = true }
                }
            }
        }
    }

    /// Records every place a keyword ends in `bytes`, in position order: (end offset, accepting
    /// state). When more hits occur than `hits` holds, `hits.overflowed` is set and the caller
    /// treats every keyword as present everywhere.
    public func scan(_ bytes: UnsafeRawBufferPointer, into hits: KeywordHits) {
        hits.reset()
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return }
        classOf.withUnsafeBufferPointer { classes in
            if narrow.isEmpty {
                wide.withUnsafeBufferPointer { run(base, bytes.count, classes.baseAddress!, $0.baseAddress!, hits) }
            } else {
                narrow.withUnsafeBufferPointer { run(base, bytes.count, classes.baseAddress!, $0.baseAddress!, hits) }
            }
        }
    }

    @inline(__always)
    private func run<Entry: FixedWidthInteger & UnsignedInteger>(
        _ base: UnsafePointer<UInt8>, _ count: Int, _ classes: UnsafePointer<UInt8>, _ table: UnsafePointer<Entry>,
        _ hits: KeywordHits
    ) {
        let accept = acceptOffset
        let width = classCount
        let first = firstAccepting
        let lanes = count >= 1 << 14 ? 4 : 1
        // Lane i owns [bounds[i], bounds[i+1]) and starts maxKeywordLength − 1 bytes earlier (in
        // the start state), so a keyword that straddles two lanes is found once, by the later one.
        var bounds = [Int](repeating: 0, count: lanes + 1)
        for lane in 0...lanes { bounds[lane] = count * lane / lanes }
        let lead = max(0, maxKeywordLength - 1)
        hits.beginLanes(lanes)

        @inline(__always) func record(_ lane: Int, _ offset: Int, _ position: Int, _ owned: Int) {
            if position >= owned { hits.append(lane: lane, position: position, state: Int32(offset / width - first)) }
        }

        if lanes == 1 {
            var offset = 0
            for position in 0..<count {
                offset = Int(table[offset &+ Int(classes[Int(base[position])])])
                if offset >= accept { record(0, offset, position, 0) }
            }
            return
        }
        // Four lanes in lock step over the shortest lane's length, then each lane's tail.
        var position = [Int](repeating: 0, count: 4)
        for lane in 0..<4 { position[lane] = max(0, bounds[lane] - (lane == 0 ? 0 : lead)) }
        var o0 = 0, o1 = 0, o2 = 0, o3 = 0
        var p0 = position[0], p1 = position[1], p2 = position[2], p3 = position[3]
        let s1 = bounds[1], s2 = bounds[2], s3 = bounds[3]
        let steps = min(bounds[1] - p0, bounds[2] - p1, bounds[3] - p2, bounds[4] - p3)
        var step = 0
        while step < steps {
            o0 = Int(table[o0 &+ Int(classes[Int(base[p0])])])
            o1 = Int(table[o1 &+ Int(classes[Int(base[p1])])])
            o2 = Int(table[o2 &+ Int(classes[Int(base[p2])])])
            o3 = Int(table[o3 &+ Int(classes[Int(base[p3])])])
            if (o0 | o1 | o2 | o3) >= accept { // cheap test: the OR is at least the largest
                if o0 >= accept { record(0, o0, p0, 0) }
                if o1 >= accept { record(1, o1, p1, s1) }
                if o2 >= accept { record(2, o2, p2, s2) }
                if o3 >= accept { record(3, o3, p3, s3) }
            }
            p0 &+= 1; p1 &+= 1; p2 &+= 1; p3 &+= 1
            step &+= 1
        }
        let ends = [bounds[1], bounds[2], bounds[3], bounds[4]]
        let owned = [0, s1, s2, s3]
        var states = [o0, o1, o2, o3]
        let positions = [p0, p1, p2, p3]
        for lane in 0..<4 {
            var offset = states[lane]
            var p = positions[lane]
            while p < ends[lane] {
                offset = Int(table[offset &+ Int(classes[Int(base[p])])])
                if offset >= accept { record(lane, offset, p, owned[lane]) }
                p &+= 1
            }
            states[lane] = offset
        }
    }
}

/// Where keywords ended in one buffer: (end offset, accepting state) pairs in position order.
/// Reused across buffers (one per thread); bounded: past `capacity` hits it only notes overflow.
public final class KeywordHits {
    private var positions: UnsafeMutablePointer<UInt32>
    private var states: UnsafeMutablePointer<Int32>
    private let capacity: Int
    private var laneCount = 1
    private var laneStart = [Int](repeating: 0, count: 4)
    private var laneEnd = [Int](repeating: 0, count: 4)
    private var laneCapacity = 0
    public private(set) var overflowed = false

    public init(capacity: Int = 1 << 18) {
        self.capacity = capacity
        positions = .allocate(capacity: capacity)
        states = .allocate(capacity: capacity)
    }

    deinit {
        positions.deallocate()
        states.deallocate()
    }

    func reset() {
        overflowed = false
        laneCount = 1
        laneStart[0] = 0
        laneEnd[0] = 0
    }

    func beginLanes(_ count: Int) {
        laneCount = count
        laneCapacity = capacity / count
        for lane in 0..<count {
            laneStart[lane] = lane * laneCapacity
            laneEnd[lane] = lane * laneCapacity
        }
    }

    @inline(__always) func append(lane: Int, position: Int, state: Int32) {
        let slot = laneEnd[lane]
        if slot - laneStart[lane] >= laneCapacity { overflowed = true; return }
        positions[slot] = UInt32(truncatingIfNeeded: position)
        states[slot] = state
        laneEnd[lane] = slot + 1
    }

    public var count: Int {
        var total = 0
        for lane in 0..<laneCount { total += laneEnd[lane] - laneStart[lane] }
        return total
    }

    /// Calls `body(endOffset, state)` for every hit, in position order.
    public func forEach(_ body: (Int, Int32) -> Void) {
        for lane in 0..<laneCount {
            var slot = laneStart[lane]
            while slot < laneEnd[lane] {
                body(Int(positions[slot]), states[slot])
                slot += 1
            }
        }
    }
}
