import Foundation
import ResidueScan

/// The corrected Dockerfile and how to build it.
public struct DockerfileFix: Sendable {
    public struct Skipped: Codable, Sendable {
        public var line: Int
        public var ruleId: String
        public var reason: String
    }
    public let original: String
    public let text: String
    /// Lines (of the original) of the findings the fix rewrote.
    public let fixedLines: [Int]
    public let fixed: Int
    public let skipped: [Skipped]
    /// `--secret id=…,env=…`, `--secret id=…,src=…`, `--ssh default`, in order.
    public let buildFlags: [String]
    /// What the person running the build must provide (environment variables, files).
    public let needs: [String]

    public var changed: Bool { original != text }

    /// `docker build FLAGS -f DOCKERFILE CONTEXT`.
    public func buildCommand(dockerfile: String, context: String) -> String {
        (["docker build"] + buildFlags + ["-f", dockerfile, context]).joined(separator: " ")
    }
}

/// Rewrites the leaks a lint found: build arguments and ENV credentials become secret mounts
/// (`env=` with the `# syntax=docker/dockerfile:1.10` it needs, or with `portable`, the
/// `$(cat /run/secrets/…)` form every builder runs), copied credential files become secret
/// mounts at the path the build read them from (`target=`), copied SSH keys used by git/ssh
/// become `--mount=type=ssh`, literals on RUN lines become mounted variables, and ENV and LABEL
/// credentials are removed with a comment. Lines it does not touch stay byte for byte.
public struct DockerfileFixer {
    public let portable: Bool

    public init(portable: Bool) { self.portable = portable }

    struct RunEdit {
        var mounts: [String] = []
        var exports: [String] = []
        var replacements: [(String, String)] = []
        var dropRemoves: Set<String> = []  // targets whose rm segments go
    }

    public func fix(_ lint: DockerfileLint) -> DockerfileFix {
        let dockerfile = lint.dockerfile
        var runEdits: [Int: RunEdit] = [:]
        var deleted: Set<Int> = []
        var removedNames: [Int: Set<String>] = [:]   // ARG/ENV/LABEL instruction → names to drop
        var comments: [Int: [String]] = [:]           // instruction → comment lines put in its place
        var flags: [String] = []
        var needs: [String] = []
        var needsEnvSyntax = false
        var skipped: [DockerfileFix.Skipped] = []
        var fixedLines: [Int] = []
        var fixed = 0

        func addFlag(_ flag: String, need: String) {
            if !flags.contains(flag) { flags.append(flag); needs.append(need) }
        }
        func canPrefix(_ run: Int) -> String? {
            let instruction = dockerfile.instructions[run]
            if instruction.execForm != nil { return "the RUN at line \(instruction.startLine) uses the exec (JSON) form, which has no shell to read the secret file: rewrite it in shell form, or drop --portable" }
            if !instruction.heredocs.isEmpty { return "the RUN at line \(instruction.startLine) is a heredoc: add `\(MountAdvice.portableExport(id: "ID", name: "NAME"))` as its first line, or drop --portable" }
            return nil
        }
        func mountVariable(_ name: String, into run: Int) -> String? {
            let id = MountAdvice.secretID(name)
            if portable {
                if let reason = canPrefix(run) { return reason }
                runEdits[run, default: RunEdit()].mounts.append(MountAdvice.fileMount(id: id))
                runEdits[run, default: RunEdit()].exports.append(MountAdvice.portableExport(id: id, name: name))
            } else {
                runEdits[run, default: RunEdit()].mounts.append(MountAdvice.envMount(id: id, name: name))
                needsEnvSyntax = true
            }
            addFlag(MountAdvice.buildSecret(id: id, env: name), need: "the environment variable \(name) set to the secret when you build")
            return nil
        }

        for (position, finding) in lint.report.findings.enumerated() {
            guard let action = lint.actions[position] else {
                skipped.append(.init(line: finding.line, ruleId: finding.ruleId, reason: Self.whyNot(finding)))
                continue
            }
            var reasons: [String] = []
            switch action {
            case let .secretVariable(name, declarations, consumers):
                for run in consumers { if let reason = mountVariable(name, into: run) { reasons.append(reason) } }
                guard reasons.isEmpty else { break }
                for declaration in declarations {
                    removedNames[declaration, default: []].insert(name)
                    if dockerfile.instructions[declaration].keyword == "ENV" {
                        comments[declaration, default: []].append("# residue: ENV \(name) removed: the image config kept its value. Provide it at run time (docker run -e \(name), a Kubernetes Secret, a mounted secret file).")
                    }
                }
            case let .credentialCopy(copy, files, removers):
                let copyInstruction = dockerfile.instructions[copy]
                var mountedAny = false
                for file in files {
                    let id = MountAdvice.secretID((file.target as NSString).lastPathComponent)
                    var readers = file.readers.filter { !file.sshReaders.contains($0) }
                    if file.match.kind == .sshKey, !file.sshReaders.isEmpty {
                        for run in file.sshReaders { runEdits[run, default: RunEdit()].mounts.append(MountAdvice.sshMount) }
                        addFlag(MountAdvice.buildSSH, need: "an SSH agent holding the key (ssh-add \(file.source)); with buildah: --ssh default=\(file.source)")
                        mountedAny = true
                    }
                    if readers.isEmpty && file.sshReaders.isEmpty, let firstRemover = removers.min() {
                        // nothing names the file: every RUN that could see it, up to the rm, gets it
                        let stage = dockerfile.stages[copyInstruction.stage!]
                        readers = stage.instructions.filter { $0 > copy && $0 < firstRemover && dockerfile.instructions[$0].keyword == "RUN" }
                    }
                    for run in readers {
                        runEdits[run, default: RunEdit()].mounts.append(MountAdvice.targetMount(id: id, target: file.target))
                        mountedAny = true
                    }
                    if !readers.isEmpty { addFlag(MountAdvice.buildSecret(id: id, src: file.source), need: "the file \(file.source) in the build context (or point src= at it elsewhere, outside the context)") }
                    for remover in removers { runEdits[remover, default: RunEdit()].dropRemoves.insert(file.target) }
                }
                _ = mountedAny
                deleted.insert(copy)
            case let .inlineSecret(run, secret, name):
                if portable, let reason = canPrefix(run) { reasons.append(reason); break }
                runEdits[run, default: RunEdit()].replacements.append((secret, name))
                _ = mountVariable(name, into: run)
                needs[needs.count - 1] += " (it was written in the Dockerfile: rotate it)"
            case let .label(instruction, name):
                removedNames[instruction, default: []].insert(name)
                comments[instruction, default: []].append("# residue: LABEL \(name) removed: labels are public image metadata, never a place for credentials.")
            }
            if reasons.isEmpty {
                fixed += 1
                fixedLines.append(finding.line)
            } else {
                skipped.append(.init(line: finding.line, ruleId: finding.ruleId, reason: reasons.joined(separator: "; ")))
            }
        }

        // Render: each instruction either untouched (its lines verbatim) or rewritten.
        var replacement: [Int: [String]] = [:]  // instruction index → new lines (empty: deleted)
        for index in dockerfile.instructions.indices {
            let instruction = dockerfile.instructions[index]
            if deleted.contains(index) { replacement[index] = comments[index] ?? []; continue }
            if let names = removedNames[index] {
                let pairs = Assignments.parse(instruction.arguments, legacySpaceForm: instruction.keyword == "ENV")
                let kept = pairs.filter { !names.contains($0.name) }
                var lines = comments[index] ?? []
                if !kept.isEmpty {
                    let indent = String(dockerfile.lines[instruction.startLine - 1].text.prefix { $0 == " " || $0 == "\t" })
                    lines.append(indent + instruction.keyword + " " + kept.map { Self.render($0) }.joined(separator: " "))
                }
                replacement[index] = lines
                continue
            }
            if let edit = runEdits[index] {
                replacement[index] = render(instruction, edit: edit, in: dockerfile)
            }
        }
        // runs that only removed the converted files go entirely
        for (index, lines) in replacement where lines.count == 1 && dockerfile.instructions[index].keyword == "RUN" {
            let trimmed = lines[0].trimmingCharacters(in: .whitespaces)
            if trimmed == "RUN" || trimmed.hasPrefix("RUN --mount") && !trimmed.contains(" ") { replacement[index] = [] }
        }

        var output = ""
        var lineIndex = 0
        let lines = dockerfile.lines
        let terminator = lines.first?.terminator.isEmpty == false ? lines.first!.terminator : "\n"
        if needsEnvSyntax {
            if let syntax = dockerfile.directive("syntax") {
                if !Self.supportsEnvMounts(syntax.value) {
                    // replaced in the loop below
                }
            } else {
                output += "# syntax=\(MountAdvice.envSyntax)" + terminator
            }
        }
        let starts = Dictionary(uniqueKeysWithValues: dockerfile.instructions.indices.map { (dockerfile.instructions[$0].startLine, $0) })
        while lineIndex < lines.count {
            let number = lineIndex + 1
            if needsEnvSyntax, let syntax = dockerfile.directive("syntax"), syntax.line == number, !Self.supportsEnvMounts(syntax.value) {
                output += "# syntax=\(MountAdvice.envSyntax)" + lines[lineIndex].terminator
                lineIndex += 1
                continue
            }
            if let index = starts[number], let newLines = replacement[index] {
                let instruction = dockerfile.instructions[index]
                let end = instruction.endLine
                let lastTerminator = lines[end - 1].terminator
                for (offset, line) in newLines.enumerated() {
                    output += line + (offset == newLines.count - 1 ? lastTerminator : (lines[lineIndex].terminator.isEmpty ? "\n" : lines[lineIndex].terminator))
                }
                lineIndex = end
                continue
            }
            output += lines[lineIndex].text + lines[lineIndex].terminator
            lineIndex += 1
        }
        return DockerfileFix(original: dockerfile.lines.map { $0.text + $0.terminator }.joined(), text: output,
                             fixedLines: fixedLines, fixed: fixed, skipped: skipped, buildFlags: flags, needs: needs)
    }

    static func supportsEnvMounts(_ syntax: String) -> Bool {
        guard let colon = syntax.lastIndex(of: ":") else { return false }
        let tag = syntax[syntax.index(after: colon)...]
        if tag == "1" || tag == "latest" || tag.hasPrefix("1-labs") || tag == "labs" { return true }
        let parts = tag.split(separator: "-").first?.split(separator: ".").compactMap { Int($0) } ?? []
        guard let major = parts.first else { return false }
        return major > 1 || (major == 1 && parts.count > 1 && parts[1] >= 10) || (major == 1 && parts.count == 1)
    }

    static func render(_ pair: Assignments.Pair) -> String {
        guard let value = pair.value else { return pair.name }
        let plain = !value.isEmpty && value.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "'" && $0 != "\\" }
        return plain ? "\(pair.name)=\(value)" : "\(pair.name)=\"\(value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\""
    }

    static func whyNot(_ finding: DockerfileFinding) -> String {
        switch finding.ruleId {
        case "dockerfile-credential-copy", "dockerfile-credential-copy-rm":
            if finding.fix.contains(".dockerignore") { return "the file comes in through a folder or `COPY . .`: add it to .dockerignore (a Dockerfile change cannot leave it out)" }
            return "no RUN reads the file and nothing removes it, so the image may need it at run time: mount it at run time instead (a Kubernetes Secret, docker run -v)"
        case "dockerfile-secret-arg": return "no RUN reads the build argument"
        default:
            if finding.instruction.hasPrefix("CMD") || finding.instruction.hasPrefix("ENTRYPOINT") || finding.instruction.hasPrefix("HEALTHCHECK") {
                return "the command line is part of the image config: the application has to read the credential at run time"
            }
            if finding.path != nil { return "the secret is inside a context file: take it out of the file (or the context) and provide it at run time" }
            return "residue does not rewrite this kind of leak"
        }
    }

    /// A RUN with mounts added after its keyword (and existing flags), exported secrets in front
    /// of its command, literals replaced and `rm` of converted files dropped. Only the lines
    /// that change are rewritten.
    func render(_ instruction: DockerfileInstruction, edit: RunEdit, in dockerfile: Dockerfile) -> [String] {
        var lines = (instruction.startLine...instruction.endLine).map { dockerfile.lines[$0 - 1].text }
        // literals → variables
        for (secret, name) in edit.replacements {
            for index in lines.indices where lines[index].contains(secret) {
                var line = lines[index]
                while let range = line.range(of: secret) {
                    let before = line[..<range.lowerBound]
                    let singleQuoted = before.filter { $0 == "'" }.count % 2 == 1
                    line.replaceSubrange(range, with: singleQuoted ? "'\"${\(name)}\"'" : "${\(name)}")
                }
                lines[index] = line
            }
        }
        // rm of files now mounted
        if !edit.dropRemoves.isEmpty {
            let commandLines = instruction.lastCommandLine - instruction.startLine + 1
            for index in 0..<commandLines { lines[index] = Self.dropRemoves(lines[index], targets: edit.dropRemoves) }
        }
        // flags and exports on the first line
        var first = lines[0]
        let keywordEnd = first.range(of: "RUN", options: [.caseInsensitive])!.upperBound
        var insertAt = keywordEnd
        var scan = first[keywordEnd...]
        while true {
            let spaces = scan.prefix { $0 == " " || $0 == "\t" }
            let rest = scan.dropFirst(spaces.count)
            guard rest.hasPrefix("--") else { break }
            let token = rest.prefix { !$0.isWhitespace }
            insertAt = token.endIndex
            scan = rest.dropFirst(token.count)
        }
        var inserted = ""
        var seen: Set<String> = []
        for mount in edit.mounts where seen.insert(mount).inserted { inserted += " " + mount }
        if !edit.exports.isEmpty { inserted += " " + edit.exports.joined(separator: " && ") + " &&" }
        first.insert(contentsOf: inserted, at: insertAt)
        lines[0] = first
        // a RUN left with nothing to do
        let joined = lines.joined(separator: "\n")
        if !edit.dropRemoves.isEmpty, Self.isEmptyRun(joined) { return [] }
        return lines
    }

    static func isEmptyRun(_ text: String) -> Bool {
        var rest = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard rest.uppercased().hasPrefix("RUN") else { return false }
        rest = String(rest.dropFirst(3))
        let words = rest.split(whereSeparator: \.isWhitespace).filter { !$0.hasPrefix("--mount=") && $0 != "\\" && $0 != "&&" }
        return words.isEmpty || words.allSatisfy { $0.hasPrefix("export") || $0.hasPrefix("\"$(cat") || $0.contains("=\"$(cat") }
    }

    /// Removes `rm [-f] PATHS` segments (and the `&&`/`;` that joins them) whose operands are
    /// all files the fix now mounts; a mixed `rm` keeps its other operands.
    static func dropRemoves(_ line: String, targets: Set<String>) -> String {
        let pattern = try! NSRegularExpression(pattern: #"(\s*(?:&&|;)\s*)?\brm((?:\s+-[A-Za-z-]+)*)((?:\s+[^\s&;|\\]+)+)(\s*(?:&&|;)\s*)?"#)
        var result = line
        let matches = pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)).reversed()
        for match in matches {
            guard let whole = Range(match.range, in: result), let operandRange = Range(match.range(at: 3), in: result) else { continue }
            let operands = result[operandRange].split(whereSeparator: \.isWhitespace).map(String.init)
            let kept = operands.filter { operand in !targets.contains { target in
                let t = target.hasSuffix("/") ? String(target.dropLast()) : target
                return operand == t || operand.hasSuffix(t) && (operand.hasPrefix("~") || operand.hasPrefix("$HOME"))
            } }
            if kept.count == operands.count { continue }
            let before = match.range(at: 1).location != NSNotFound
            let after = match.range(at: 4).location != NSNotFound
            if kept.isEmpty {
                // `a && rm x && b` → `a && b`; `a && rm x` → `a`; `rm x && b` → `b`; `rm x` → ``
                let lead = Range(match.range(at: 1), in: result).map { String(result[$0]) } ?? ""
                result.replaceSubrange(whole, with: before && after ? lead : "")
            } else {
                let flags = Range(match.range(at: 2), in: result).map { String(result[$0]) } ?? ""
                let lead = Range(match.range(at: 1), in: result).map { String(result[$0]) } ?? ""
                let trail = Range(match.range(at: 4), in: result).map { String(result[$0]) } ?? ""
                result.replaceSubrange(whole, with: lead + "rm" + flags + " " + kept.joined(separator: " ") + trail)
            }
        }
        return result
    }
}

/// A unified diff (`diff -u` style, three lines of context) between two texts.
public enum UnifiedDiff {
    enum Op { case same, del, add }
    struct Step { let op: Op; let old: Int; let new: Int }

    public static func make(_ old: String, _ new: String, oldName: String, newName: String) -> String {
        let a = DockerfileParser.splitLines(old).map { $0.text }
        let b = DockerfileParser.splitLines(new).map { $0.text }
        if a == b { return "" }
        // LCS table (Dockerfiles are small)
        let n = a.count, m = b.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        // each step records the old and new line indexes it sits at
        var steps: [Step] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, a[i] == b[j] { steps.append(Step(op: .same, old: i, new: j)); i += 1; j += 1 }
            else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] { steps.append(Step(op: .del, old: i, new: j)); i += 1 }
            else { steps.append(Step(op: .add, old: i, new: j)); j += 1 }
        }
        let context = 3
        let changes = steps.indices.filter { steps[$0].op != .same }
        // group changes whose gap is at most 2 * context unchanged lines
        var groups: [(Int, Int)] = []
        for change in changes {
            if let last = groups.last, change - last.1 <= 2 * context + 1 { groups[groups.count - 1].1 = change }
            else { groups.append((change, change)) }
        }
        var out = "--- \(oldName)\n+++ \(newName)\n"
        for (first, last) in groups {
            let start = max(0, first - context), end = min(steps.count, last + context + 1)
            let hunk = steps[start..<end]
            let oldCount = hunk.filter { $0.op != .add }.count
            let newCount = hunk.filter { $0.op != .del }.count
            let oldStart = hunk.first!.old + (oldCount == 0 ? 0 : 1)
            let newStart = hunk.first!.new + (newCount == 0 ? 0 : 1)
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n"
            for step in hunk {
                switch step.op {
                case .same: out += " \(a[step.old])\n"
                case .del: out += "-\(a[step.old])\n"
                case .add: out += "+\(b[step.new])\n"
                }
            }
        }
        return out
    }
}
