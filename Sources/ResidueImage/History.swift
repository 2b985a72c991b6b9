import Foundation

/// A build argument with its value, as a build recorded it.
public struct BuildArg: Hashable, Sendable {
    public let name: String
    public let value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A history entry's `created_by`, parsed back into the Dockerfile instruction that made it.
public struct Instruction: Sendable, Equatable {
    public enum Builder: String, Sendable { case classic, buildkit, unknown }

    /// `RUN`, `ENV`, `ARG`, `COPY`, `ADD`, `LABEL`, `CMD`, … (empty when unknown).
    public let keyword: String
    /// What follows the keyword, without the shell prefix or build-argument prefix: for a RUN,
    /// the command; for an ENV, `K=V`.
    public let arguments: String
    /// Build arguments this step saw: the `|N K=V …` prefix of a RUN, or an `ARG K=V`.
    public let buildArgs: [BuildArg]
    public let builder: Builder
    /// The shell a RUN's command ran through (`/bin/sh -c`), when recorded.
    public let shell: String?

    public init(keyword: String, arguments: String, buildArgs: [BuildArg] = [], builder: Builder, shell: String? = nil) {
        self.keyword = keyword
        self.arguments = arguments
        self.buildArgs = buildArgs
        self.builder = builder
        self.shell = shell
    }

    /// The instruction as a Dockerfile line (`RUN npm ci`).
    public var text: String { arguments.isEmpty ? keyword : "\(keyword) \(arguments)" }

    /// `K=V` assignments of an ENV, LABEL or ARG (also the legacy `ENV K V` form).
    public var assignments: [BuildArg] {
        guard ["ENV", "LABEL", "ARG"].contains(keyword) else { return [] }
        return HistoryParser.assignments(arguments, allowLegacySpaceForm: keyword == "ENV")
    }
}

public enum HistoryParser {
    static let keywords: Set<String> = ["FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
                                        "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
                                        "HEALTHCHECK", "SHELL"]

    /// Parses one `created_by`. Never fails: text it does not recognise is a RUN of that text
    /// (the classic builder records exec-form RUNs as the bare command).
    public static func parse(_ createdBy: String, comment: String? = nil) -> Instruction {
        var text = createdBy.trimmingCharacters(in: .whitespacesAndNewlines)
        var builder: Instruction.Builder = comment == "buildkit.dockerfile.v0" ? .buildkit : .unknown
        if text.hasSuffix("# buildkit") {
            text = String(text.dropLast("# buildkit".count)).trimmingCharacters(in: .whitespaces)
            builder = .buildkit
        }
        if text.isEmpty { return Instruction(keyword: "", arguments: "", builder: builder) }

        // Classic builder: `/bin/sh -c #(nop) ENV K=V` for metadata steps.
        if let range = text.range(of: "#(nop)") , text[..<range.lowerBound].trimmingCharacters(in: .whitespaces).hasSuffix("-c") || text[..<range.lowerBound].trimmingCharacters(in: .whitespaces).isEmpty {
            let rest = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
            let (keyword, arguments) = splitKeyword(rest)
            let instruction = Instruction(keyword: keyword ?? "", arguments: keyword == nil ? rest : arguments,
                                          builder: .classic)
            return withArgBuildArgs(instruction)
        }
        // BuildKit: `RUN |1 K=V /bin/sh -c cmd`, `ENV K=V`, `ARG K=V`, `COPY . /app`.
        let (keyword, arguments) = splitKeyword(text)
        if let keyword {
            if keyword == "RUN" {
                let run = parseRun(arguments)
                return Instruction(keyword: "RUN", arguments: run.command, buildArgs: run.buildArgs,
                                   builder: builder == .unknown ? .buildkit : builder, shell: run.shell)
            }
            return withArgBuildArgs(Instruction(keyword: keyword, arguments: arguments,
                                                builder: builder == .unknown ? .buildkit : builder))
        }
        // Classic builder RUN: `|2 A=x B=y /bin/sh -c cmd` or `/bin/sh -c cmd`.
        let run = parseRun(text)
        return Instruction(keyword: "RUN", arguments: run.command, buildArgs: run.buildArgs,
                           builder: builder == .unknown ? .classic : builder, shell: run.shell)
    }

    private static func withArgBuildArgs(_ instruction: Instruction) -> Instruction {
        guard instruction.keyword == "ARG" else { return instruction }
        let args = assignments(instruction.arguments, allowLegacySpaceForm: false)
        return Instruction(keyword: "ARG", arguments: instruction.arguments, buildArgs: args,
                           builder: instruction.builder)
    }

    static func splitKeyword(_ text: String) -> (String?, String) {
        let word = text.prefix { !$0.isWhitespace }
        let upper = word.uppercased()
        guard keywords.contains(upper), word == upper else { return (nil, text) }
        return (upper, text.dropFirst(word.count).trimmingCharacters(in: .whitespaces))
    }

    struct Run {
        var buildArgs: [BuildArg] = []
        var shell: String?
        var command: String
    }

    static let shellPrefixes = ["/bin/sh -c ", "/bin/bash -c ", "/bin/ash -c ", "/bin/sh -o pipefail -c ",
                                "/bin/bash -o pipefail -c ", "/bin/bash -eo pipefail -c ", "cmd /S /C ",
                                "powershell -Command "]

    /// `|N K=V … SHELL -c CMD`: N build arguments (values may hold spaces), then the command.
    static func parseRun(_ text: String) -> Run {
        var rest = Substring(text)
        var buildArgs: [BuildArg] = []
        if rest.hasPrefix("|"), let space = rest.firstIndex(of: " "),
           let count = Int(rest[rest.index(after: rest.startIndex)..<space]), count > 0 {
            rest = rest[rest.index(after: space)...]
            // The pairs end where the shell starts; without a known shell, each value ends at a space.
            var pairsEnd = rest.endIndex
            var shellFound = false
            for prefix in shellPrefixes {
                if let range = rest.range(of: " " + prefix) {
                    if range.lowerBound < pairsEnd { pairsEnd = range.lowerBound; shellFound = true }
                }
            }
            if shellFound {
                buildArgs = splitPairs(String(rest[..<pairsEnd]), expected: count)
                rest = rest[pairsEnd...].dropFirst()
            } else {
                for _ in 0..<count {
                    let token = rest.prefix { $0 != " " }
                    guard let equals = token.firstIndex(of: "=") else { break }
                    buildArgs.append(BuildArg(name: String(token[..<equals]), value: String(token[token.index(after: equals)...])))
                    rest = rest.dropFirst(token.count).drop { $0 == " " }
                }
            }
        }
        for prefix in shellPrefixes where rest.hasPrefix(prefix) {
            return Run(buildArgs: buildArgs, shell: String(prefix.dropLast()),
                       command: rest.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces))
        }
        return Run(buildArgs: buildArgs, shell: nil, command: rest.trimmingCharacters(in: .whitespaces))
    }

    static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.first, first == "_" || first.isASCII && first.isLetter else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    /// Splits `A=x y B=z` into pairs at ` NAME=` boundaries, keeping spaces inside values.
    static func splitPairs(_ text: String, expected: Int) -> [BuildArg] {
        let tokens = text.split(separator: " ", omittingEmptySubsequences: false)
        var pairs: [BuildArg] = []
        for token in tokens {
            if let equals = token.firstIndex(of: "="), isIdentifier(token[..<equals]), pairs.count < expected {
                pairs.append(BuildArg(name: String(token[..<equals]), value: String(token[token.index(after: equals)...])))
            } else if let last = pairs.popLast() {
                pairs.append(BuildArg(name: last.name, value: last.value + " " + token))
            }
        }
        return pairs
    }

    /// `K=V K2="v 2"` (quotes removed) or, for a legacy ENV, `K V with spaces`.
    static func assignments(_ text: String, allowLegacySpaceForm: Bool) -> [BuildArg] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let firstWord = trimmed.prefix { !$0.isWhitespace }
        if allowLegacySpaceForm, !firstWord.contains("="), firstWord.count < trimmed.count {
            let value = trimmed.dropFirst(firstWord.count).trimmingCharacters(in: .whitespaces)
            return [BuildArg(name: String(firstWord), value: value)]
        }
        var result: [BuildArg] = []
        var index = trimmed.startIndex
        while index < trimmed.endIndex {
            while index < trimmed.endIndex, trimmed[index].isWhitespace { index = trimmed.index(after: index) }
            let nameStart = index
            while index < trimmed.endIndex, trimmed[index] != "=", !trimmed[index].isWhitespace { index = trimmed.index(after: index) }
            let name = String(trimmed[nameStart..<index])
            guard index < trimmed.endIndex, trimmed[index] == "=" else {
                if !name.isEmpty { result.append(BuildArg(name: name, value: "")) }
                continue
            }
            index = trimmed.index(after: index)
            var value = ""
            var quote: Character?
            while index < trimmed.endIndex {
                let character = trimmed[index]
                if let open = quote {
                    if character == open { quote = nil } else if character == "\\", open == "\"",
                        trimmed.index(after: index) < trimmed.endIndex {
                        index = trimmed.index(after: index)
                        value.append(trimmed[index])
                    } else { value.append(character) }
                } else if character == "\"" || character == "'" {
                    quote = character
                } else if character.isWhitespace {
                    break
                } else if character == "\\", trimmed.index(after: index) < trimmed.endIndex {
                    index = trimmed.index(after: index)
                    value.append(trimmed[index])
                } else {
                    value.append(character)
                }
                index = trimmed.index(after: index)
            }
            if !name.isEmpty { result.append(BuildArg(name: name, value: value)) }
        }
        return result
    }
}

/// Lines history entries up with layers: the entries that are not `empty_layer` map, in order,
/// onto the layers.
public struct HistoryLayout: Sendable {
    /// For each layer index, the history index that created it (nil when the history is short).
    public let historyIndexForLayer: [Int?]

    public init(history: [HistoryEntry], layerCount: Int) {
        var mapping = [Int?](repeating: nil, count: layerCount)
        var layer = 0
        for (index, entry) in history.enumerated() where !(entry.empty_layer ?? false) {
            if layer >= layerCount { break }
            mapping[layer] = index
            layer += 1
        }
        historyIndexForLayer = mapping
    }
}
