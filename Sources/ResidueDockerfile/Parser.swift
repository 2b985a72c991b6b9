import Foundation

/// A Dockerfile that does not parse: the line (1-based) and what is wrong there.
public struct DockerfileParseError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let message: String
    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}

/// One physical line of the file, with the terminator it had (`\n`, `\r\n` or none), so a fix
/// can give back every untouched line byte for byte.
public struct SourceLine: Sendable, Equatable {
    public var text: String
    public var terminator: String
}

/// `# syntax=…`, `# escape=…`, `# check=…` at the top of the file.
public struct ParserDirective: Sendable, Equatable {
    public let name: String
    public let value: String
    public let line: Int
}

/// `--mount=type=secret,id=x` → name `mount`, value `type=secret,id=x`; `--link` → value nil.
public struct InstructionFlag: Sendable, Equatable {
    public let name: String
    public let value: String?
}

/// `<<EOF … EOF` attached to a RUN, COPY or ADD.
public struct Heredoc: Sendable, Equatable {
    public let marker: String
    /// `<<-EOF`: leading tabs are stripped from the body.
    public let stripTabs: Bool
    /// `<<"EOF"` / `<<'EOF'`: no expansion inside.
    public let quoted: Bool
    public let body: String
    /// The first body line and the terminator line (1-based).
    public let bodyStartLine: Int
    public let endLine: Int
}

/// One Dockerfile instruction, continuation lines joined.
public struct DockerfileInstruction: Sendable, Equatable {
    /// Upper-case keyword: `RUN`, `COPY`, …
    public let keyword: String
    public let flags: [InstructionFlag]
    /// What follows the keyword and its flags, continuations joined and comment lines dropped.
    public let arguments: String
    /// The exec (JSON) form's words, when the arguments are a JSON array of strings.
    public let execForm: [String]?
    public let heredocs: [Heredoc]
    /// First and last physical line (1-based, inclusive; heredoc bodies included).
    public let startLine: Int
    public let endLine: Int
    /// The last line of the instruction itself, before any heredoc body.
    public let lastCommandLine: Int
    /// Index into `Dockerfile.stages`; nil for an ARG before the first FROM.
    public let stage: Int?

    public func flag(_ name: String) -> String? {
        flags.last { $0.name == name }.flatMap { $0.value ?? "" }
    }

    /// The instruction as one line (`RUN npm ci`), heredoc bodies not included.
    public var text: String {
        let flagText = flags.map { flag in flag.value.map { "--\(flag.name)=\($0)" } ?? "--\(flag.name)" }
        return ([keyword] + flagText + (arguments.isEmpty ? [] : [arguments])).joined(separator: " ")
    }

    /// For a RUN: the command a shell runs (exec form joined with spaces; heredoc bodies appended).
    public var command: String {
        var text = execForm?.joined(separator: " ") ?? arguments
        for heredoc in heredocs { text += "\n" + heredoc.body }
        return text
    }
}

/// A build stage: `FROM base [AS name]` and the instructions up to the next FROM.
public struct BuildStage: Sendable, Equatable {
    public let index: Int
    public let name: String?
    /// The base image as written, with build arguments substituted.
    public let base: String
    /// The stage this one builds on (`FROM builder`), if any.
    public let baseStage: Int?
    public let platform: String?
    /// Index of its FROM in `Dockerfile.instructions`.
    public let fromInstruction: Int
    /// Indexes into `Dockerfile.instructions`, FROM excluded.
    public let instructions: [Int]

    public var displayName: String { name ?? "#\(index)" }
}

public struct Dockerfile: Sendable {
    public let path: String?
    public let lines: [SourceLine]
    public let directives: [ParserDirective]
    public let escape: Character
    public let instructions: [DockerfileInstruction]
    public let stages: [BuildStage]
    /// ARGs declared before the first FROM, with their defaults.
    public let globalArgs: [String: String]

    public var finalStage: BuildStage { stages[stages.count - 1] }

    /// The stages whose layers the final image contains: the final stage and the stages it is
    /// built `FROM`, transitively.
    public var stagesInFinalImage: Set<Int> {
        var result: Set<Int> = []
        var current: Int? = finalStage.index
        while let index = current, result.insert(index).inserted { current = stages[index].baseStage }
        return result
    }

    public func directive(_ name: String) -> ParserDirective? { directives.first { $0.name == name } }
}

/// Parses Dockerfiles the way BuildKit's frontend does: parser directives, the escape
/// character, line continuations (comment and blank lines inside them dropped), heredocs,
/// exec and shell forms, flags, stages, ARG before FROM, variable substitution in FROM.
public enum DockerfileParser {
    public static let keywords: Set<String> = ["FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
                                               "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
                                               "HEALTHCHECK", "SHELL"]
    static let flagKeywords: Set<String> = ["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"]
    static let heredocKeywords: Set<String> = ["RUN", "COPY", "ADD"]

    public static func parse(contentsOf path: String) throws -> Dockerfile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DockerfileParseError(line: 0, "cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DockerfileParseError(line: 1, "not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    public static func splitLines(_ text: String) -> [SourceLine] {
        var lines: [SourceLine] = []
        var current = ""
        var iterator = text.unicodeScalars.makeIterator()
        var pendingCR = false
        while let scalar = iterator.next() {
            if pendingCR {
                pendingCR = false
                if scalar == "\n" { lines.append(SourceLine(text: current, terminator: "\r\n")); current = ""; continue }
                current.unicodeScalars.append("\r")
            }
            if scalar == "\r" { pendingCR = true; continue }
            if scalar == "\n" { lines.append(SourceLine(text: current, terminator: "\n")); current = ""; continue }
            current.unicodeScalars.append(scalar)
        }
        if pendingCR { current.unicodeScalars.append("\r") }
        if !current.isEmpty { lines.append(SourceLine(text: current, terminator: "")) }
        return lines
    }

    public static func parse(_ text: String, path: String? = nil) throws -> Dockerfile {
        var lines = splitLines(text)
        if let first = lines.first, first.text.hasPrefix("\u{FEFF}") {
            lines[0].text.removeFirst()  // a BOM is not part of the first line's content
        }

        // Parser directives: `# name=value` lines at the very top.
        var directives: [ParserDirective] = []
        var index = 0
        while index < lines.count {
            let line = lines[index].text.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("#") else { break }
            let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
            guard let equals = body.firstIndex(of: "=") else { break }
            let name = body[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { break }
            if directives.contains(where: { $0.name == name }) {
                throw DockerfileParseError(line: index + 1, "parser directive \(name) given twice")
            }
            directives.append(ParserDirective(name: name, value: body[body.index(after: equals)...].trimmingCharacters(in: .whitespaces), line: index + 1))
            index += 1
        }
        var escape: Character = "\\"
        if let value = directives.first(where: { $0.name == "escape" }) {
            guard value.value == "\\" || value.value == "`" else {
                throw DockerfileParseError(line: value.line, "invalid escape character \(value.value) (use \\ or `)")
            }
            escape = value.value == "`" ? "`" : "\\"
        }

        // Instructions: joined continuations, then heredoc bodies.
        struct Raw { var keyword: String; var rest: String; var start: Int; var last: Int; var end: Int; var heredocs: [Heredoc] }
        var raws: [Raw] = []
        while index < lines.count {
            let trimmed = lines[index].text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { index += 1; continue }
            let start = index
            var logical = ""
            var line = lines[index].text
            while true {
                if let body = continued(line, escape: escape) {
                    logical += body
                    index += 1
                    // comment and empty lines inside a continuation are skipped
                    while index < lines.count {
                        let next = lines[index].text.trimmingCharacters(in: .whitespaces)
                        if next.hasPrefix("#") || next.isEmpty { index += 1 } else { break }
                    }
                    if index >= lines.count { break }
                    line = lines[index].text
                } else {
                    logical += line
                    break
                }
            }
            let last = min(index, lines.count - 1)
            index = last + 1
            let content = logical.trimmingCharacters(in: .whitespaces)
            let word = String(content.prefix { !$0.isWhitespace })
            let keyword = word.uppercased()
            guard keywords.contains(keyword) else {
                throw DockerfileParseError(line: start + 1, "unknown instruction \(word.prefix(40))")
            }
            let rest = content.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
            var raw = Raw(keyword: keyword, rest: rest, start: start + 1, last: last + 1, end: last + 1, heredocs: [])
            if heredocKeywords.contains(keyword) {
                for marker in heredocMarkers(in: rest) {
                    var body: [String] = []
                    let bodyStart = index + 1
                    var terminated = false
                    while index < lines.count {
                        var text = lines[index].text
                        if marker.stripTabs { text = String(text.drop { $0 == "\t" }) }
                        index += 1
                        if text == marker.word { terminated = true; break }
                        body.append(text)
                    }
                    guard terminated else {
                        throw DockerfileParseError(line: start + 1, "heredoc <<\(marker.word) is not terminated (no line \(marker.word) before the end of the file)")
                    }
                    raw.heredocs.append(Heredoc(marker: marker.word, stripTabs: marker.stripTabs, quoted: marker.quoted,
                                                body: body.map { $0 + "\n" }.joined(), bodyStartLine: bodyStart, endLine: index))
                    raw.end = index
                }
            }
            raws.append(raw)
        }

        // Stages, flags, forms.
        var instructions: [DockerfileInstruction] = []
        var stages: [BuildStage] = []
        var globalArgs: [String: String] = [:]
        var currentStage: (name: String?, base: String, baseStage: Int?, platform: String?, from: Int, members: [Int])?
        func closeStage() {
            guard let stage = currentStage else { return }
            stages.append(BuildStage(index: stages.count, name: stage.name, base: stage.base, baseStage: stage.baseStage,
                                     platform: stage.platform, fromInstruction: stage.from, instructions: stage.members))
        }
        for raw in raws {
            var rest = Substring(raw.rest)
            var flags: [InstructionFlag] = []
            if flagKeywords.contains(raw.keyword) {
                while rest.hasPrefix("--") {
                    let token = rest.prefix { !$0.isWhitespace }
                    let body = token.dropFirst(2)
                    if let equals = body.firstIndex(of: "=") {
                        flags.append(InstructionFlag(name: String(body[..<equals]), value: String(body[body.index(after: equals)...])))
                    } else {
                        flags.append(InstructionFlag(name: String(body), value: nil))
                    }
                    rest = rest.dropFirst(token.count).drop { $0.isWhitespace }
                }
            }
            let arguments = String(rest)
            if arguments.isEmpty && raw.heredocs.isEmpty {
                throw DockerfileParseError(line: raw.start, "\(raw.keyword) needs arguments")
            }
            var execForm: [String]?
            if ["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"].contains(raw.keyword), arguments.hasPrefix("["),
               let data = arguments.data(using: .utf8),
               let words = try? JSONSerialization.jsonObject(with: data) as? [String] {
                execForm = words
            }
            if raw.keyword == "SHELL", execForm == nil {
                throw DockerfileParseError(line: raw.start, "SHELL needs the JSON form, e.g. SHELL [\"/bin/sh\", \"-c\"]")
            }
            let instructionIndex = instructions.count
            if raw.keyword == "FROM" {
                closeStage()
                let words = arguments.split(whereSeparator: \.isWhitespace).map(String.init)
                var name: String?
                if words.count == 3, words[1].uppercased() == "AS" {
                    name = words[2].lowercased()
                } else if words.count != 1 {
                    throw DockerfileParseError(line: raw.start, "FROM takes an image and an optional `AS name`")
                }
                let base = Substitution.expand(words[0], variables: globalArgs)
                let baseStage = stages.lastIndex { $0.name == base.lowercased() }
                currentStage = (name, base, baseStage, flags.first { $0.name == "platform" }?.value, instructionIndex, [])
            } else if currentStage == nil {
                guard raw.keyword == "ARG" else {
                    throw DockerfileParseError(line: raw.start, "\(raw.keyword) before the first FROM (only ARG may come before FROM)")
                }
                for pair in Assignments.parse(arguments) { globalArgs[pair.name] = pair.value ?? "" }
            } else {
                currentStage!.members.append(instructionIndex)
            }
            instructions.append(DockerfileInstruction(
                keyword: raw.keyword, flags: flags, arguments: arguments, execForm: execForm, heredocs: raw.heredocs,
                startLine: raw.start, endLine: raw.end, lastCommandLine: raw.last,
                stage: currentStage == nil ? nil : stages.count))
        }
        closeStage()
        guard !stages.isEmpty else {
            throw DockerfileParseError(line: max(1, lines.count), "no FROM instruction")
        }
        return Dockerfile(path: path, lines: lines, directives: directives, escape: escape, instructions: instructions,
                          stages: stages, globalArgs: globalArgs)
    }

    /// The line without its trailing escape character, if it continues on the next line.
    static func continued(_ line: String, escape: Character) -> String? {
        let trimmed = line.replacingOccurrences(of: "[ \\t]+$", with: "", options: .regularExpression)
        guard trimmed.last == escape else { return nil }
        // an escaped escape (`\\` at the end) does not continue the line
        let withoutLast = trimmed.dropLast()
        if withoutLast.last == escape {
            let run = withoutLast.reversed().prefix { $0 == escape }.count
            if run % 2 == 1 { return nil }
        }
        return String(withoutLast)
    }

    struct Marker { let word: String; let stripTabs: Bool; let quoted: Bool }

    /// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in an instruction's arguments (not `<<<`, not in quotes).
    static func heredocMarkers(in text: String) -> [Marker] {
        var markers: [Marker] = []
        let characters = Array(text)
        var index = 0
        var quote: Character?
        while index < characters.count {
            let character = characters[index]
            if let open = quote {
                if character == open { quote = nil }
                index += 1
                continue
            }
            if character == "'" || character == "\"" { quote = character; index += 1; continue }
            if character == "<", index + 1 < characters.count, characters[index + 1] == "<",
               !(index + 2 < characters.count && characters[index + 2] == "<"), !(index > 0 && characters[index - 1] == "<") {
                var position = index + 2
                var stripTabs = false
                if position < characters.count, characters[position] == "-" { stripTabs = true; position += 1 }
                var quoted: Character?
                if position < characters.count, characters[position] == "\"" || characters[position] == "'" {
                    quoted = characters[position]; position += 1
                }
                var word = ""
                while position < characters.count, characters[position].isLetter || characters[position].isNumber || characters[position] == "_" {
                    word.append(characters[position]); position += 1
                }
                if let open = quoted {
                    guard position < characters.count, characters[position] == open else { index += 2; continue }
                    position += 1
                }
                if !word.isEmpty, word.first!.isLetter || word.first == "_" {
                    markers.append(Marker(word: word, stripTabs: stripTabs, quoted: quoted != nil))
                    index = position
                    continue
                }
            }
            index += 1
        }
        return markers
    }
}

/// `NAME=value` pairs of ARG, ENV and LABEL (quotes removed), and the legacy `ENV NAME value`.
public enum Assignments {
    public struct Pair: Sendable, Equatable {
        public let name: String
        /// nil for `ARG NAME` without a default.
        public let value: String?
    }

    public static func parse(_ text: String, legacySpaceForm: Bool = false) -> [Pair] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let firstWord = trimmed.prefix { !$0.isWhitespace }
        if legacySpaceForm, !firstWord.contains("="), firstWord.count < trimmed.count {
            return [Pair(name: String(firstWord), value: trimmed.dropFirst(firstWord.count).trimmingCharacters(in: .whitespaces))]
        }
        var result: [Pair] = []
        let characters = Array(trimmed)
        var index = 0
        while index < characters.count {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
            var name = ""
            while index < characters.count, characters[index] != "=", !characters[index].isWhitespace {
                name.append(characters[index]); index += 1
            }
            guard index < characters.count, characters[index] == "=" else {
                if !name.isEmpty { result.append(Pair(name: name, value: nil)) }
                continue
            }
            index += 1
            var value = ""
            var quote: Character?
            while index < characters.count {
                let character = characters[index]
                if let open = quote {
                    if character == open { quote = nil }
                    else if character == "\\", open == "\"", index + 1 < characters.count { index += 1; value.append(characters[index]) }
                    else { value.append(character) }
                } else if character == "\"" || character == "'" {
                    quote = character
                } else if character.isWhitespace {
                    break
                } else if character == "\\", index + 1 < characters.count {
                    index += 1; value.append(characters[index])
                } else {
                    value.append(character)
                }
                index += 1
            }
            if !name.isEmpty { result.append(Pair(name: name, value: value)) }
        }
        return result
    }
}

/// `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`, `${NAME+alt}`, `\$`.
public enum Substitution {
    public static func expand(_ text: String, variables: [String: String], escape: Character = "\\") -> String {
        let characters = Array(text)
        var result = ""
        var index = 0
        func isNameCharacter(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }
        while index < characters.count {
            let character = characters[index]
            if character == escape, index + 1 < characters.count, characters[index + 1] == "$" {
                result.append("$"); index += 2; continue
            }
            guard character == "$", index + 1 < characters.count else { result.append(character); index += 1; continue }
            if characters[index + 1] == "{" {
                guard let close = characters[(index + 2)...].firstIndex(of: "}") else { result.append(character); index += 1; continue }
                let inner = String(characters[(index + 2)..<close])
                index = close + 1
                let name = String(inner.prefix(while: isNameCharacter))
                let modifier = inner.dropFirst(name.count)
                let value = variables[name]
                if modifier.hasPrefix(":-") { result += (value?.isEmpty ?? true) ? expand(String(modifier.dropFirst(2)), variables: variables) : value! }
                else if modifier.hasPrefix("-") { result += value ?? expand(String(modifier.dropFirst()), variables: variables) }
                else if modifier.hasPrefix(":+") { result += (value?.isEmpty ?? true) ? "" : expand(String(modifier.dropFirst(2)), variables: variables) }
                else if modifier.hasPrefix("+") { result += value == nil ? "" : expand(String(modifier.dropFirst()), variables: variables) }
                else { result += value ?? "" }
                continue
            }
            var end = index + 1
            while end < characters.count, isNameCharacter(characters[end]) { end += 1 }
            if end == index + 1 { result.append(character); index += 1; continue }
            result += variables[String(characters[(index + 1)..<end])] ?? ""
            index = end
        }
        return result
    }

    /// The variables a text refers to (`$NAME`, `${NAME…}`).
    public static func references(in text: String) -> Set<String> {
        var names: Set<String> = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            guard characters[index] == "$", index + 1 < characters.count else { index += 1; continue }
            var start = index + 1
            if characters[start] == "{" { start += 1 }
            var end = start
            while end < characters.count, characters[end] == "_" || (characters[end].isASCII && (characters[end].isLetter || characters[end].isNumber)) { end += 1 }
            if end > start { names.insert(String(characters[start..<end])) }
            index = max(end, index + 1)
        }
        return names
    }
}
