/// Finds every keyword of every rule in one pass over a buffer (Aho–Corasick, compiled to a
/// full transition table, ASCII case folded). A rule's regex runs only on buffers where one
/// of its keywords occurs: one pass for all keywords, not one `memmem` per keyword.
public struct KeywordAutomaton: Sendable {
    /// transitions[state * 256 + byte] → next state.
    private let transitions: [Int32]
    /// For each state, the keyword ids that end there (through failure links too).
    private let outputs: [[Int32]]
    private let hasOutput: [Bool]
    public let keywordCount: Int

    public init(keywords: [String]) {
        keywordCount = keywords.count
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
        // Breadth-first: failure links, then the full table.
        let stateCount = goto.count
        var fail = [Int32](repeating: 0, count: stateCount)
        var table = [Int32](repeating: 0, count: stateCount * 256)
        var queue: [Int32] = []
        for byte in 0..<256 {
            if let next = goto[0][UInt8(byte)] {
                table[byte] = next
                queue.append(next)
            }
        }
        var head = 0
        while head < queue.count {
            let state = Int(queue[head])
            head += 1
            out[state] += out[Int(fail[state])]
            for byte in 0..<256 {
                if let next = goto[state][UInt8(byte)] {
                    fail[Int(next)] = table[Int(fail[state]) * 256 + byte]
                    table[state * 256 + byte] = next
                    queue.append(next)
                } else {
                    table[state * 256 + byte] = table[Int(fail[state]) * 256 + byte]
                }
            }
        }
        // Case folding: an upper-case byte moves like its lower-case twin.
        for state in 0..<stateCount {
            for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") {
                table[state * 256 + Int(upper)] = table[state * 256 + Int(upper | 0x20)]
            }
        }
        transitions = table
        outputs = out
        hasOutput = out.map { !$0.isEmpty }
    }

    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte | 0x20 : byte
    }

    /// Marks `found[id] = true` for each keyword present in `bytes`.
    public func scan(_ bytes: UnsafeRawBufferPointer, found: inout [Bool]) {
        transitions.withUnsafeBufferPointer { table in
            var state = 0
            for byte in bytes {
                state = Int(table[state &* 256 &+ Int(byte)])
                if hasOutput[state] {
                    for id in outputs[state] { found[Int(id)] = true }
                }
            }
        }
    }
}
