import CPCRE2

/// A compiled PCRE2 pattern (JIT when the platform supports it). Immutable once built, so it is
/// shared by every scanning thread; match state lives in `MatchState`, one per thread.
public final class CompiledRegex: @unchecked Sendable {
    let code: OpaquePointer
    public let pattern: String
    public let captureCount: Int
    /// JIT-compiled: matched through `pcre2_jit_match`, which skips the interpreter's option
    /// checks (measurable at the hundreds of thousands of anchored tries a scan makes).
    let isJIT: Bool

    public init(_ pattern: String, caseInsensitive: Bool = false, anchored: Bool = false, origin: String) throws {
        var errorCode: Int32 = 0
        var errorOffset = 0
        var options: UInt32 = 0
        if caseInsensitive { options |= PCRE2_CASELESS }
        if anchored { options |= PCRE2_ANCHORED }
        let compiled = pattern.withCString { text in
            text.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count) {
                pcre2_compile_8($0, pattern.utf8.count, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            var message = [UInt8](repeating: 0, count: 256)
            pcre2_get_error_message_8(errorCode, &message, message.count)
            let text = String(decoding: message.prefix { $0 != 0 }, as: UTF8.self)
            throw RuleError("\(origin): regex does not compile at offset \(errorOffset): \(text)")
        }
        code = compiled
        self.pattern = pattern
        // Falls back to the interpreter if JIT is unavailable.
        isJIT = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        var captures: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
        captureCount = Int(captures)
    }

    deinit { pcre2_code_free_8(code) }
}

/// Per-thread PCRE2 state: match data, a JIT stack, and limits that stop a pathological
/// pattern on hostile input from running for ever.
public final class MatchState {
    let matchData: OpaquePointer
    let context: OpaquePointer
    let jitStack: OpaquePointer?
    /// Searches stopped by the match, depth or JIT-stack limit (a pattern that backtracks too
    /// much on this input): matches there may be missed, so the scan reports it.
    public internal(set) var limitHits = 0

    public init() {
        matchData = pcre2_match_data_create_8(32, nil)
        context = pcre2_match_context_create_8(nil)
        jitStack = pcre2_jit_stack_create_8(32 * 1024, 4 * 1024 * 1024, nil)
        if let jitStack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack)) }
        pcre2_set_match_limit_8(context, 5_000_000)
        pcre2_set_depth_limit_8(context, 100_000)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// The first match at or after `start`: the ranges of group 0…captureCount (nil for an
    /// unset group), or nil when there is none (or the match limit was hit).
    /// `length` cuts the subject short (the bytes before `start` stay visible to lookbehinds).
    func firstMatch(_ regex: CompiledRegex, in bytes: UnsafeRawBufferPointer, length: Int? = nil, from start: Int) -> [Range<Int>?]? {
        let length = min(length ?? bytes.count, bytes.count)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), start <= length else { return nil }
        let result = regex.isJIT ? pcre2_jit_match_8(regex.code, base, length, start, 0, matchData, context)
            : pcre2_match_8(regex.code, base, length, start, 0, matchData, context)
        if result == PCRE2_ERROR_MATCHLIMIT || result == PCRE2_ERROR_DEPTHLIMIT || result == PCRE2_ERROR_JIT_STACKLIMIT {
            limitHits += 1
        }
        guard result > 0 else { return nil }
        let vector = pcre2_get_ovector_pointer_8(matchData)!
        var groups: [Range<Int>?] = []
        for group in 0...regex.captureCount {
            if group >= Int(result) { groups.append(nil); continue }
            let low = vector[2 * group], high = vector[2 * group + 1]
            groups.append(low == UInt.max || high < low ? nil : Int(low)..<Int(high))
        }
        return groups
    }

    /// Whether the pattern matches anywhere in `text`.
    public func matches(_ regex: CompiledRegex, _ text: String) -> Bool {
        var text = text // native strings are contiguous UTF-8: no copy (paths are matched per file)
        return text.withUTF8 { firstMatch(regex, in: UnsafeRawBufferPointer($0), from: 0) != nil }
    }
}
