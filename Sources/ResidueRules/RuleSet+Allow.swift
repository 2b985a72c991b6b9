/// A rule's `allowlists` entry, compiled.
struct CompiledAllowlist {
    let regexes: [CompiledRegex]
    let target: Rule.Allowlist.Target
    let paths: [CompiledRegex]
    let stopwords: [String]
    let requiresAll: Bool

    init(_ list: Rule.Allowlist, origin: String) throws {
        regexes = try (list.regexes ?? []).map { try CompiledRegex($0, origin: "\(origin) allowlist regex") }
        target = list.target ?? .secret
        paths = try (list.paths ?? []).map { try CompiledRegex($0, origin: "\(origin) allowlist path") }
        stopwords = (list.stopwords ?? []).map { $0.lowercased() }
        switch (list.condition ?? "or").lowercased() {
        case "or": requiresAll = false
        case "and": requiresAll = true
        default: throw RuleError("\(origin): allowlist condition must be OR or AND, not \(list.condition!)")
        }
    }

    /// True when the list lets every match in a file go on its path alone.
    func allowsWholeFile(_ path: String, state: MatchState) -> Bool {
        guard !paths.isEmpty, paths.contains(where: { state.matches($0, path) }) else { return false }
        return !requiresAll || (regexes.isEmpty && stopwords.isEmpty)
    }
}

extension Matcher {
    /// Whether one of the rule's allowlists lets this match go.
    func isAllowed(_ compiled: CompiledRule, secret: String, match: Range<Int>, in bytes: UnsafeRawBufferPointer, path: String?) -> Bool {
        var lowerSecret: String?
        for list in compiled.allowlists {
            var results: [Bool] = []
            if !list.regexes.isEmpty {
                let target: String
                switch list.target {
                case .secret: target = secret
                case .match: target = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[match]), as: UTF8.self)
                case .line:
                    var start = match.lowerBound, end = match.upperBound
                    while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
                    while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                    target = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                }
                results.append(list.regexes.contains { state.matches($0, target) })
            }
            if !list.stopwords.isEmpty {
                if lowerSecret == nil { lowerSecret = secret.lowercased() }
                results.append(list.stopwords.contains(where: lowerSecret!.contains))
            }
            if !list.paths.isEmpty {
                results.append(path.map { path in list.paths.contains { state.matches($0, path) } } ?? false)
            }
            guard !results.isEmpty else { continue }
            if list.requiresAll ? results.allSatisfy({ $0 }) : results.contains(true) { return true }
        }
        return false
    }
}
