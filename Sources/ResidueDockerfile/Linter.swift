import Foundation
import ResidueArchive
import ResidueRules
import ResidueScan

/// One leak a Dockerfile causes, at its line, with the reason and the fix.
public struct DockerfileFinding: Codable, Sendable {
    public struct StageInfo: Codable, Sendable, Equatable {
        public var index: Int
        public var name: String?
        /// True when the final image contains this stage's layers and history.
        public var inFinalImage: Bool
    }

    public var ruleId: String
    public var title: String
    public var severity: Severity
    public var line: Int
    public var endLine: Int
    public var stage: StageInfo?
    /// The instruction, secrets redacted.
    public var instruction: String
    /// The variable, build argument or label that holds the secret.
    public var key: String?
    /// The credential file (context-relative, or the COPY source as written).
    public var path: String?
    /// Where the file lands in the image.
    public var target: String?
    /// Redacted unless asked.
    public var secret: String?
    public var message: String
    public var fix: String
    /// Whether `--fix` rewrites it.
    public var fixable: Bool
    public var fingerprint: String
}

public struct DockerfileLintOptions: Sendable {
    /// The build context folder; nil: the Dockerfile's folder.
    public var context: String?
    /// Whether to read the context at all.
    public var readContext = true
    public var showSecrets = false
    public init() {}
}

/// What the fixer needs to rewrite a finding (not part of the report).
enum FixAction {
    /// ARG/ENV declarations of `name` to remove, RUNs that read it to mount it into.
    case secretVariable(name: String, declarations: [Int], consumers: [Int])
    /// A COPY of credential files, the RUNs that read them, the RUNs that remove them.
    case credentialCopy(copy: Int, files: [CopiedFile], removers: [Int])
    /// A literal in a RUN, to be replaced by a variable read from a secret mount.
    case inlineSecret(run: Int, secret: String, name: String)
    /// A LABEL assignment to remove.
    case label(instruction: Int, name: String)
}

struct CopiedFile {
    let source: String
    let target: String
    let match: CredentialFiles.Match
    /// RUNs after the COPY that read the file (by path), or that run ssh/git (for keys).
    var readers: [Int] = []
    var sshReaders: [Int] = []
}

public struct DockerfileReport: Codable, Sendable {
    public struct ContextInfo: Codable, Sendable {
        public var path: String
        public var files: Int
        public var ignoreFile: String?
        public var truncated: Bool
    }
    public var dockerfile: String
    public var context: ContextInfo?
    public var stages: [DockerfileFinding.StageInfo]
    public var findings: [DockerfileFinding]
    public var summary: Summary

    public struct Summary: Codable, Sendable {
        public var findings: Int
        public var bySeverity: [String: Int]
        public var fixable: Int
        public var secretsShown: Bool
    }

    public func hasFindings(atOrAbove threshold: Severity) -> Bool { findings.contains { $0.severity >= threshold } }
}

/// The result of linting: the report plus what the fixer needs.
public struct DockerfileLint {
    public let dockerfile: Dockerfile
    public let report: DockerfileReport
    let actions: [FixAction?]
    /// Raw secrets seen, to scrub from any text shown.
    let secrets: [String]

    /// `text` with every secret the lint saw masked (a diff, a message).
    public func redacting(_ text: String) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 { result = result.replacingOccurrences(of: secret, with: "*****") }
        return result
    }
}

public struct DockerfileLinter {
    let ruleSet: RuleSet
    let options: DockerfileLintOptions

    public init(ruleSet: RuleSet, options: DockerfileLintOptions = DockerfileLintOptions()) {
        self.ruleSet = ruleSet
        self.options = options
    }

    struct Pending {
        var finding: DockerfileFinding
        var rawSecret: String?
        var action: FixAction?
        var rulePriority: RulePriority
    }

    public func lint(_ dockerfile: Dockerfile) -> DockerfileLint {
        let matcher = Matcher(ruleSet)
        var context: BuildContext?
        if options.readContext {
            let root = options.context ?? dockerfile.path.map { ($0 as NSString).deletingLastPathComponent } ?? "."
            context = BuildContext(root: root.isEmpty ? "." : root, dockerfile: dockerfile.path)
        }
        let inFinal = dockerfile.stagesInFinalImage
        var pending: [Pending] = []

        func stageInfo(_ index: Int?) -> DockerfileFinding.StageInfo? {
            guard let index else { return nil }
            return .init(index: index, name: dockerfile.stages[index].name, inFinalImage: inFinal.contains(index))
        }

        func add(_ ruleId: String, _ title: String, _ severity: Severity, at index: Int, key: String? = nil, path: String? = nil,
                 target: String? = nil, secret: String? = nil, revealPrefix: Bool = false, message: String, fix: String,
                 action: FixAction?, priority: RulePriority = .secretName) {
            let instruction = dockerfile.instructions[index]
            var severity = severity
            var message = message
            if let stage = instruction.stage, !inFinal.contains(stage) {
                let lowered = Self.lower(severity)
                message += " This is in build stage `\(dockerfile.stages[stage].displayName)`, which the final image does not contain (it takes only what `COPY --from` copies), so the image you ship does not carry it; it stays in the build cache and in any image built with `--target \(dockerfile.stages[stage].displayName)`. Severity lowered from \(severity.rawValue) to \(lowered.rawValue)."
                severity = lowered
            }
            let redactor = Redactor(showSecrets: options.showSecrets)
            let place = key ?? path ?? "\(instruction.keyword):\(instruction.startLine)"
            let fingerprint = "v1:" + Digest.sha256(of: ["residue-dockerfile-v1", ruleId, place, secret ?? ""].joined(separator: "\u{0}")).hex.prefix(32)
            let finding = DockerfileFinding(
                ruleId: ruleId, title: title, severity: severity, line: instruction.startLine, endLine: instruction.endLine,
                stage: stageInfo(instruction.stage), instruction: Self.firstLine(dockerfile, instruction), key: key, path: path,
                target: target, secret: secret.map { redactor.redact($0, revealPrefix: revealPrefix) }, message: message, fix: fix,
                fixable: action != nil, fingerprint: String(fingerprint))
            pending.append(Pending(finding: finding, rawSecret: secret, action: action, rulePriority: priority))
        }

        func ruleMatches(_ text: String, includeGeneric: Bool) -> [(rule: Rule, secret: String)] {
            matcher.scan(text: text).compactMap { match in
                let rule = ruleSet.rules[match.ruleIndex].rule
                if rule.isGeneric && !includeGeneric { return nil }
                return (rule, match.secret)
            }
        }

        for stage in dockerfile.stages {
            var variables = dockerfile.globalArgs
            var workdir = "/"
            // secret-named variables: name → (declaring instructions, keyword)
            var secretArgs: [String: [Int]] = [:]
            var argOrder: [String] = []
            var envFindingFor: [String: Int] = [:]  // name → pending index of its ENV finding
            var copies: [(instruction: Int, files: [CopiedFile], pendingIndex: Int, removers: [Int])] = []
            var consumers: [String: [Int]] = [:]
            let stageMembers = stage.instructions

            for index in stageMembers {
                let instruction = dockerfile.instructions[index]
                switch instruction.keyword {
                case "ARG":
                    for pair in Assignments.parse(instruction.arguments) {
                        let value = pair.value ?? dockerfile.globalArgs[pair.name]
                        variables[pair.name] = value ?? ""
                        guard SecretValues.isSecretName(pair.name) else { continue }
                        var declarations = secretArgs[pair.name] ?? []
                        if declarations.isEmpty {
                            argOrder.append(pair.name)
                            // the global declaration goes too
                            if pair.value == nil, dockerfile.globalArgs[pair.name] != nil,
                               let global = dockerfile.instructions.firstIndex(where: { $0.keyword == "ARG" && $0.stage == nil
                                   && Assignments.parse($0.arguments).contains { $0.name == pair.name } }) {
                                declarations.append(global)
                            }
                        }
                        declarations.append(index)
                        secretArgs[pair.name] = declarations
                    }
                case "ENV":
                    for pair in Assignments.parse(instruction.arguments, legacySpaceForm: true) {
                        let raw = pair.value ?? ""
                        let value = Substitution.expand(raw, variables: variables, escape: dockerfile.escape)
                        defer { variables[pair.name] = value }
                        let refs = Substitution.references(in: raw)
                        let action = FixAction.secretVariable(name: pair.name, declarations: [index], consumers: [])
                        let specific = ruleMatches("\(pair.name)=\(raw)", includeGeneric: false)
                        if let hit = specific.max(by: { $0.rule.severity < $1.rule.severity }) {
                            envFindingFor[pair.name] = pending.count
                            add(hit.rule.id, hit.rule.title, hit.rule.severity, at: index, key: pair.name, secret: hit.secret, revealPrefix: true,
                                message: "ENV \(pair.name) holds a \(hit.rule.title) in the Dockerfile; the image config keeps it (`docker inspect` shows it to anyone who can pull the image).",
                                fix: Self.envFix(pair.name), action: action, priority: .format)
                        } else if SecretValues.isSecretName(pair.name), let argument = refs.first(where: { secretArgs[$0] != nil || variables[$0] != nil }),
                                  secretArgs[argument] != nil || SecretValues.isSecretName(argument) {
                            envFindingFor[pair.name] = pending.count
                            add("dockerfile-secret-env", "Build argument copied into ENV \(pair.name)", .high, at: index, key: pair.name,
                                message: "ENV \(pair.name)=\(raw) copies build argument \(argument) into the image config, where `docker inspect` shows its value to anyone who can pull the image.",
                                fix: Self.envFix(pair.name), action: action)
                            secretArgs[argument, default: []].append(contentsOf: [])
                            consumers[argument, default: []].append(index)
                        } else if SecretValues.isSecretName(pair.name), SecretValues.isRealSecretValue(value), refs.isEmpty {
                            envFindingFor[pair.name] = pending.count
                            add("dockerfile-secret-env", "Credential in ENV \(pair.name)", .high, at: index, key: pair.name, secret: raw,
                                message: "ENV \(pair.name) sets a credential in the Dockerfile; the image config keeps it (`docker inspect` shows it to anyone who can pull the image).",
                                fix: Self.envFix(pair.name), action: action)
                        }
                    }
                case "LABEL":
                    for pair in Assignments.parse(instruction.arguments) {
                        let value = pair.value ?? ""
                        let action = FixAction.label(instruction: index, name: pair.name)
                        let fix = "Remove the credential from the label: labels are public metadata. --fix removes it."
                        if let hit = ruleMatches("\(pair.name)=\(value)", includeGeneric: false).max(by: { $0.rule.severity < $1.rule.severity }) {
                            add(hit.rule.id, hit.rule.title, hit.rule.severity, at: index, key: pair.name, secret: hit.secret, revealPrefix: true,
                                message: "LABEL \(pair.name) holds a \(hit.rule.title); labels are image metadata that `docker inspect` shows.", fix: fix, action: action, priority: .format)
                        } else if SecretValues.isSecretName(pair.name), SecretValues.isRealSecretValue(value) {
                            add("dockerfile-secret-label", "Credential in LABEL \(pair.name)", .high, at: index, key: pair.name, secret: value,
                                message: "LABEL \(pair.name) holds a credential; labels are image metadata that `docker inspect` shows.", fix: fix, action: action)
                        }
                    }
                case "CMD", "ENTRYPOINT", "HEALTHCHECK":
                    for hit in ruleMatches(instruction.execForm?.joined(separator: " ") ?? instruction.arguments, includeGeneric: true) {
                        add(hit.rule.id, hit.rule.title, hit.rule.severity, at: index, secret: hit.secret, revealPrefix: !hit.rule.isGeneric,
                            message: "\(instruction.keyword) holds a \(hit.rule.title); it is part of the image config, readable by anyone who pulls the image.",
                            fix: "Read the credential at run time (an environment variable set with `docker run -e`, a Kubernetes Secret, a mounted file) instead of writing it into \(instruction.keyword).",
                            action: nil, priority: .format)
                    }
                case "WORKDIR":
                    let path = Substitution.expand(instruction.arguments, variables: variables, escape: dockerfile.escape)
                    workdir = Self.resolve(path, workdir: workdir)
                case "RUN":
                    let command = instruction.command
                    let refs = Substitution.references(in: command)
                    for name in argOrder where refs.contains(name) { consumers[name, default: []].append(index) }
                    for (name, _) in envFindingFor where refs.contains(name) { consumers[name, default: []].append(index) }
                    // inline secrets
                    // A vendor format first (its name makes the variable: GITLAB_TOKEN); then the
                    // command-line forms the linter knows (curl -H, mysql -p, --password=), whose
                    // names say what the value is; then the rules that only see the context.
                    let hits = ruleMatches(command, includeGeneric: true)
                    let inlines = InlineSecrets.find(in: command)
                    let formatSecrets = Set(hits.filter { $0.rule.priority == .format }.map(\.secret))
                    // The command-line forms take the secrets no vendor format named.
                    var seen = Set(inlines.map(\.secret)).subtracting(formatSecrets)
                    for hit in hits.filter({ $0.rule.priority == .format }) + hits.filter({ $0.rule.priority != .format })
                    where seen.insert(hit.secret).inserted {
                        let name = Self.variableName(for: hit.rule.id)
                        add(hit.rule.id, hit.rule.title, hit.rule.severity, at: index, secret: hit.secret, revealPrefix: !hit.rule.isGeneric,
                            message: "This RUN writes a \(hit.rule.title) into the Dockerfile; the command line is recorded in the image history (`docker history --no-trunc`).",
                            fix: Self.inlineFix(name), action: instruction.execForm == nil ? .inlineSecret(run: index, secret: hit.secret, name: name) : nil, priority: .format)
                    }
                    var reported: Set<String> = []
                    for inline in inlines where !formatSecrets.contains(inline.secret) && reported.insert(inline.secret).inserted {
                        add("dockerfile-inline-secret", "Credential on a RUN command line (\(inline.what))", .high, at: index, secret: inline.secret,
                            message: "This RUN passes a credential literally (\(inline.what)); the command line is recorded in the image history (`docker history --no-trunc`).",
                            fix: Self.inlineFix(inline.name), action: instruction.execForm == nil ? .inlineSecret(run: index, secret: inline.secret, name: inline.name) : nil)
                    }
                    // readers and removers of copied credential files
                    let segments = ShellSegments.split(command)
                    for copyIndex in copies.indices {
                        for fileIndex in copies[copyIndex].files.indices {
                            let file = copies[copyIndex].files[fileIndex]
                            let removed = segments.contains { $0.isRemove && $0.removes(file.target, workdir: workdir) }
                            let reads = segments.contains { !$0.isRemove && $0.mentions(file.target) }
                            if reads { copies[copyIndex].files[fileIndex].readers.append(index) }
                            if file.match.kind == .sshKey, segments.contains(where: { !$0.isRemove && $0.usesSSH }) {
                                copies[copyIndex].files[fileIndex].sshReaders.append(index)
                            }
                            if removed, !copies[copyIndex].removers.contains(index) { copies[copyIndex].removers.append(index) }
                        }
                    }
                case "COPY", "ADD":
                    let words = instruction.execForm ?? Self.words(instruction.arguments)
                    guard words.count >= 2 else { break }
                    let destination = Self.resolve(Substitution.expand(words.last!, variables: variables, escape: dockerfile.escape), workdir: workdir)
                    let sources = words.dropLast().map { Substitution.expand($0, variables: variables, escape: dockerfile.escape) }
                    // heredoc files: their content is in the Dockerfile
                    for heredoc in instruction.heredocs {
                        for hit in ruleMatches(heredoc.body, includeGeneric: true) {
                            add(hit.rule.id, hit.rule.title, hit.rule.severity, at: index, secret: hit.secret, revealPrefix: !hit.rule.isGeneric,
                                message: "The file this \(instruction.keyword) writes from a heredoc holds a \(hit.rule.title): it is in the Dockerfile and in the layer.",
                                fix: "Do not write credentials into the Dockerfile; mount them for the step that needs them (`RUN --mount=type=secret,id=…,target=…`).",
                                action: nil, priority: .format)
                        }
                    }
                    if instruction.flag("from") != nil { break }
                    var files: [CopiedFile] = []
                    var contentHits: [(path: String, target: String, rule: Rule, secret: String)] = []
                    let single = sources.count == 1 && !destination.hasSuffix("/")
                    for source in sources where !source.hasPrefix("<<") {
                        if source.contains("://") {
                            for hit in ruleMatches(source, includeGeneric: false) {
                                add(hit.rule.id, hit.rule.title, hit.rule.severity, at: index, secret: hit.secret, revealPrefix: true,
                                    message: "The URL this ADD fetches holds a \(hit.rule.title); it is recorded in the Dockerfile and the image history.",
                                    fix: "Fetch it in a RUN with the credential from a secret mount (`RUN --mount=type=secret,id=…,env=…  curl …`).", action: nil, priority: .format)
                            }
                            continue
                        }
                        let cleanedSource = IgnorePatterns.clean(source)
                        var selected = context?.files(selectedBy: source) ?? []
                        let literal = selected.isEmpty
                        if literal { selected = [cleanedSource] }
                        for path in selected {
                            let target = Self.target(of: path, source: cleanedSource, destination: destination, single: single && (path == cleanedSource))
                            if let match = CredentialFiles.classify(path) {
                                let key = match.kind == .folder ? match.path : path
                                if files.contains(where: { ($0.match.kind == .folder ? $0.match.path : $0.source) == key }) { continue }
                                let folderTarget = match.kind == .folder
                                    ? Self.target(of: match.path, source: cleanedSource, destination: destination, single: single && match.path == cleanedSource)
                                    : target
                                files.append(CopiedFile(source: key, target: folderTarget, match: match))
                            } else if !literal, let data = context?.contents(of: path), !data.prefix(8192).contains(0),
                                      let text = String(data: data, encoding: .utf8) {
                                if let hit = matcher.scan(text: text, path: target).map({ (ruleSet.rules[$0.ruleIndex].rule, $0.secret) })
                                    .filter({ !$0.0.isGeneric }).max(by: { $0.0.severity < $1.0.severity }) {
                                    contentHits.append((path, target, hit.0, hit.1))
                                }
                            }
                        }
                    }
                    for hit in contentHits {
                        add(hit.rule.id, hit.rule.title, hit.rule.severity, at: index, path: hit.path, target: hit.target, secret: hit.secret, revealPrefix: true,
                            message: "\(instruction.keyword) puts \(hit.path) from the build context into the image at \(hit.target), and it holds a \(hit.rule.title).",
                            fix: "Keep the credential out of the context file (or add \(hit.path) to .dockerignore) and provide it at run time, or mount it for the build step that needs it.",
                            action: nil, priority: .format)
                    }
                    if !files.isEmpty {
                        copies.append((index, files, pending.count, []))
                        for file in files {
                            let critical = file.match.kind == .sshKey
                            let fromDot = sources.contains { IgnorePatterns.clean($0).isEmpty || !(CredentialFiles.classify(IgnorePatterns.clean($0)) != nil) } && file.source != IgnorePatterns.clean(sources[0])
                            var message = "\(instruction.keyword) puts \(file.source) (\(file.match.what)) into the image at \(file.target)"
                            if fromDot {
                                message += context?.ignoreFile == nil
                                    ? " through `\(words.dropLast().joined(separator: " "))`: it is in the build context and there is no .dockerignore"
                                    : " through `\(words.dropLast().joined(separator: " "))`: it is in the build context and \((context!.ignoreFile! as NSString).lastPathComponent) does not exclude it"
                            }
                            message += "; anyone who pulls the image can read it."
                            let fix = fromDot
                                ? "Add `\(file.source)\(file.match.kind == .folder ? "/" : "")` to .dockerignore; if a build step needs it, mount it for that step (`RUN --mount=type=secret,id=\(MountAdvice.secretID((file.source as NSString).lastPathComponent)),target=\(file.target) …`)."
                                : ""
                            add("dockerfile-credential-copy", "\(instruction.keyword) of a credential file (\(file.match.what))", critical ? .critical : .high,
                                at: index, path: file.source, target: file.target, message: message, fix: fix, action: nil)
                        }
                    }
                default:
                    break
                }
            }

            // build arguments read by a RUN (or copied into an ENV)
            for name in argOrder {
                guard let declarations = secretArgs[name] else { continue }
                guard let readers = consumers[name], !readers.isEmpty else {
                    let declaration = declarations.last!
                    add("dockerfile-secret-arg-unused", "Unused build argument \(name)", .medium, at: declaration, key: name,
                        message: "Build argument \(name) is declared but nothing reads it. A value passed with `--build-arg \(name)=…` is still recorded in the image history: the classic builder and buildah write it on every RUN after the ARG, BuildKit on the ARG.",
                        fix: "Remove `ARG \(name)` (and the --build-arg that passes it). --fix removes it.",
                        action: .secretVariable(name: name, declarations: declarations, consumers: []))
                    continue
                }
                let runs = readers.filter { dockerfile.instructions[$0].keyword == "RUN" }
                let declaration = declarations.last!
                let defaultValue = Assignments.parse(dockerfile.instructions[declaration].arguments).first { $0.name == name }?.value
                    ?? (declarations.count > 1 ? Assignments.parse(dockerfile.instructions[declarations[0]].arguments).first { $0.name == name }?.value : nil)
                let literal = defaultValue.flatMap { SecretValues.isRealSecretValue($0) ? $0 : nil }
                let lines = readers.map { String(dockerfile.instructions[$0].startLine) }.joined(separator: ", ")
                var message = "Build argument \(name) is read by \(readers.count == 1 ? "the instruction at line" : "the instructions at lines") \(lines). Its value is written into the image history (`docker history --no-trunc` shows it): the classic builder and buildah record it on every RUN after the ARG, BuildKit on the ARG and the RUNs that use it."
                if literal != nil { message += " Its default value is a credential written in the Dockerfile itself." }
                let id = MountAdvice.secretID(name)
                let forms = MountAdvice.runForms(name: name, command: "…")
                let fix = "Remove `ARG \(name)` and mount the secret into the RUN that needs it: `\(forms.env)` (or, portable: `\(forms.portable)`); build with `docker build \(MountAdvice.buildSecret(id: id, env: name)) .`"
                let fixable = !runs.isEmpty
                add("dockerfile-secret-arg", "Credential passed as build argument \(name)", literal != nil ? .critical : .high, at: declaration, key: name,
                    secret: literal, message: message, fix: fix, action: fixable ? .secretVariable(name: name, declarations: declarations, consumers: runs) : nil)
            }
            // ENV findings: the RUNs that read them get a secret mount
            for (name, pendingIndex) in envFindingFor {
                if case .secretVariable(let n, let declarations, _)? = pending[pendingIndex].action {
                    let runs = (consumers[n] ?? []).filter { dockerfile.instructions[$0].keyword == "RUN" && $0 > declarations[0] }
                    pending[pendingIndex].action = .secretVariable(name: name, declarations: declarations, consumers: runs)
                }
            }
            // copied credential files: copy-then-rm, and what --fix can do
            for copy in copies {
                let instruction = dockerfile.instructions[copy.instruction]
                let removerLines = copy.removers.map { String(dockerfile.instructions[$0].startLine) }.joined(separator: ", ")
                let allSingleFiles = copy.files.allSatisfy { $0.match.kind != .folder }
                    && (instruction.execForm ?? Self.words(instruction.arguments)).dropLast().allSatisfy { CredentialFiles.classify(IgnorePatterns.clean(Substitution.expand($0, variables: variables))) != nil }
                let fixable = allSingleFiles && copy.files.allSatisfy { !$0.readers.isEmpty || !$0.sshReaders.isEmpty || !copy.removers.isEmpty }
                    && instruction.flag("from") == nil
                for (offset, file) in copy.files.enumerated() {
                    let position = pendingPosition(pending, copy: copy.pendingIndex, offset: offset)
                    guard let position else { continue }
                    if !copy.removers.isEmpty {
                        pending[position].finding.ruleId = "dockerfile-credential-copy-rm"
                        pending[position].finding.title = "\(instruction.keyword) of a credential file deleted later (\(file.match.what))"
                        pending[position].finding.message = "\(instruction.keyword) puts \(file.source) (\(file.match.what)) into the image at \(file.target) and the RUN at line \(removerLines) deletes it, but deleting only hides it: the \(instruction.keyword) layer still holds the file, and anyone who pulls the image can extract it."
                    }
                    let id = MountAdvice.secretID((file.target as NSString).lastPathComponent)
                    var fix: String
                    if file.match.kind == .sshKey && !file.sshReaders.isEmpty {
                        fix = "Do not copy the key: forward your SSH agent to the step that needs it with `RUN \(MountAdvice.sshMount) …` and build with `docker build \(MountAdvice.buildSSH) .`"
                    } else if pending[position].finding.fix.isEmpty || !copy.removers.isEmpty {
                        fix = "Do not copy it: mount it for the step that needs it with `RUN \(MountAdvice.targetMount(id: id, target: file.target)) …` and build with `docker build \(MountAdvice.buildSecret(id: id, src: file.source)) .`"
                        if copy.removers.isEmpty && file.readers.isEmpty {
                            fix += " If the application needs it at run time, mount it at run time (a Kubernetes Secret, `docker run -v`) instead of baking it in."
                        }
                    } else {
                        fix = pending[position].finding.fix
                    }
                    pending[position].finding.fix = fix
                    pending[position].finding.fixable = fixable
                    pending[position].action = fixable ? .credentialCopy(copy: copy.instruction, files: copy.files, removers: copy.removers) : nil
                }
            }
        }

        // one finding per secret per instruction: keep the most specific rule
        var kept: [Pending] = []
        for item in pending {
            if let secret = item.rawSecret, let existing = kept.firstIndex(where: { $0.rawSecret == secret && $0.finding.line == item.finding.line }) {
                if item.rulePriority > kept[existing].rulePriority { kept[existing] = item }
                continue
            }
            kept.append(item)
        }
        kept.sort { ($0.finding.line, $0.finding.ruleId, $0.finding.path ?? "", $0.finding.key ?? "") < ($1.finding.line, $1.finding.ruleId, $1.finding.path ?? "", $1.finding.key ?? "") }

        let secrets = Array(Set(kept.compactMap(\.rawSecret))).sorted { $0.count > $1.count }
        let redactor = Redactor(showSecrets: options.showSecrets)
        var findings = kept.map(\.finding)
        if !options.showSecrets {
            for index in findings.indices {
                for secret in secrets where secret.count >= 4 {
                    findings[index].instruction = findings[index].instruction.replacingOccurrences(of: secret, with: redactor.redact(secret, revealPrefix: false))
                    findings[index].message = findings[index].message.replacingOccurrences(of: secret, with: redactor.redact(secret, revealPrefix: false))
                }
            }
        }
        var bySeverity: [String: Int] = [:]
        for severity in Severity.allCases { bySeverity[severity.rawValue] = findings.filter { $0.severity == severity }.count }
        let report = DockerfileReport(
            dockerfile: dockerfile.path ?? "-",
            context: context.map { .init(path: $0.root, files: $0.files.count, ignoreFile: $0.ignoreFile, truncated: $0.truncated) },
            stages: dockerfile.stages.map { .init(index: $0.index, name: $0.name, inFinalImage: inFinal.contains($0.index)) },
            findings: findings,
            summary: .init(findings: findings.count, bySeverity: bySeverity, fixable: findings.filter(\.fixable).count, secretsShown: options.showSecrets))
        return DockerfileLint(dockerfile: dockerfile, report: report, actions: kept.map(\.action), secrets: secrets)
    }

    func pendingPosition(_ pending: [Pending], copy start: Int, offset: Int) -> Int? {
        let position = start + offset
        guard position < pending.count, pending[position].finding.ruleId.hasPrefix("dockerfile-credential-copy") else { return nil }
        return position
    }

    static func lower(_ severity: Severity) -> Severity {
        switch severity {
        case .critical: return .high
        case .high: return .medium
        case .medium, .low: return .low
        }
    }

    static func firstLine(_ dockerfile: Dockerfile, _ instruction: DockerfileInstruction) -> String {
        let text = instruction.text
        return text.count > 200 ? String(text.prefix(199)) + "…" : text
    }

    static func envFix(_ name: String) -> String {
        let id = MountAdvice.secretID(name)
        return "Remove it from the Dockerfile and provide it at run time (`docker run -e \(name)`, a Kubernetes Secret, or a mounted secret file). If a build step needs it, mount it for that step: `RUN \(MountAdvice.envMount(id: id, name: name)) …` and `docker build \(MountAdvice.buildSecret(id: id, env: name)) .`"
    }

    static func inlineFix(_ name: String) -> String {
        let id = MountAdvice.secretID(name)
        return "Read it from a build secret instead: `RUN \(MountAdvice.envMount(id: id, name: name)) … $\(name) …` and `docker build \(MountAdvice.buildSecret(id: id, env: name)) .` (rotate the credential: it is in the Dockerfile's history)."
    }

    static func variableName(for ruleId: String) -> String {
        let upper = ruleId.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = String(upper)
        if name.hasSuffix("TOKEN") || name.hasSuffix("KEY") || name.hasSuffix("PASSWORD") || name.hasSuffix("SECRET") { return name }
        return name + "_SECRET"
    }

    /// Words of a shell-form COPY/ADD (quotes removed).
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character; inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(character); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    static func resolve(_ path: String, workdir: String) -> String {
        let trailing = path.hasSuffix("/") || path == "." || path.hasSuffix("/.")
        let absolute = path.hasPrefix("/") ? path : (workdir.hasSuffix("/") ? workdir : workdir + "/") + path
        let cleaned = "/" + IgnorePatterns.clean(absolute)
        return trailing && cleaned != "/" ? cleaned + "/" : cleaned
    }

    /// Where a context file selected by `source` lands under `destination`.
    static func target(of path: String, source: String, destination: String, single: Bool) -> String {
        if single { return destination }
        let folder = destination.hasSuffix("/") ? destination : destination + "/"
        var relative = path
        if source.isEmpty {
            relative = path
        } else if path == source {
            relative = (path as NSString).lastPathComponent
        } else if path.hasPrefix(source + "/") {
            relative = String(path.dropFirst(source.count + 1))
        } else {
            relative = (path as NSString).lastPathComponent
        }
        return folder + relative
    }
}

/// Credentials written literally on a command line, beyond what the rules find.
enum InlineSecrets {
    struct Hit { let secret: String; let what: String; let name: String }

    nonisolated(unsafe) static let patterns: [(NSRegularExpression, String, (String) -> String)] = {
        func make(_ pattern: String) -> NSRegularExpression { try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) }
        return [
            (make(#"authorization:\s*(?:bearer|basic|token)\s+([^\s"'\\]+)"#), "an Authorization header", { _ in "AUTH_TOKEN" }),
            (make(#"(?:^|\s)--(password|passwd|token|api-key|apikey|secret|client-secret|auth-token|access-token)(?:=|\s+)["']?([^\s"'\\]+)"#), "a --password style option",
             { $0.uppercased().replacingOccurrences(of: "-", with: "_") }),
            (make(#"(?:^|\s)(?:mysql|mysqldump|mysqladmin|mariadb|sshpass|docker\s+login|podman\s+login|buildah\s+login|skopeo\s+login|helm\s+registry\s+login)\b[^\n&|;]*?\s-p\s*["']?([^\s"'\\-][^\s"'\\]*)"#), "a -p password option",
             { _ in "PASSWORD" }),
            (make(#"(?:^|\s)(?:curl|wget)\b[^\n&|;]*?\s(?:-u|--user)\s+["']?[^\s:"']+:([^\s"'\\]+)"#), "user:password for curl", { _ in "PASSWORD" }),
        ]
    }()

    static func find(in command: String) -> [Hit] {
        var hits: [Hit] = []
        let range = NSRange(command.startIndex..., in: command)
        for (regex, what, nameFor) in patterns {
            for match in regex.matches(in: command, range: range) {
                let secretGroup = match.numberOfRanges - 1
                guard let secretRange = Range(match.range(at: secretGroup), in: command) else { continue }
                let secret = String(command[secretRange])
                guard !secret.hasPrefix("$"), SecretValues.isRealSecretValue(secret) else { continue }
                var name = nameFor("")
                if match.numberOfRanges > 2, let flagRange = Range(match.range(at: 1), in: command) { name = nameFor(String(command[flagRange])) }
                hits.append(Hit(secret: secret, what: what, name: name))
            }
        }
        return hits
    }
}

/// A shell command split at `&&`, `||`, `;`, `|` and newlines, enough to tell an `rm` from a
/// command that reads a file.
struct ShellSegments {
    let words: [String]

    static func split(_ command: String) -> [ShellSegments] {
        var segments: [ShellSegments] = []
        let separators = try! NSRegularExpression(pattern: #"&&|\|\||;|\||\n"#)
        var last = command.startIndex
        let ns = NSRange(command.startIndex..., in: command)
        for match in separators.matches(in: command, range: ns) {
            let range = Range(match.range, in: command)!
            segments.append(ShellSegments(words: DockerfileLinter.words(String(command[last..<range.lowerBound]))))
            last = range.upperBound
        }
        segments.append(ShellSegments(words: DockerfileLinter.words(String(command[last...]))))
        return segments.filter { !$0.words.isEmpty }
    }

    var isRemove: Bool { words.first == "rm" }
    var recursive: Bool { words.dropFirst().contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && ($0.contains("r") || $0.contains("R")) } || words.contains("--recursive") }
    var force: Bool { words.dropFirst().contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains("f") } || words.contains("--force") }
    var operands: [String] { Array(words.dropFirst().filter { !$0.hasPrefix("-") }) }

    func removes(_ target: String, workdir: String) -> Bool {
        operands.contains { operand in
            let path = DockerfileLinter.resolve(operand, workdir: workdir)
            let clean = path.hasSuffix("/") ? String(path.dropLast()) : path
            let file = target.hasSuffix("/") ? String(target.dropLast()) : target
            return clean == file || (recursive && file.hasPrefix(clean + "/"))
        }
    }

    func mentions(_ target: String) -> Bool {
        let file = target.hasSuffix("/") ? String(target.dropLast()) : target
        let name = (file as NSString).lastPathComponent
        return words.contains { $0.contains(file) || $0.hasSuffix("/" + name) || $0 == name || $0.contains("~/" + name) }
    }

    var usesSSH: Bool {
        guard let first = words.first else { return false }
        let commands: Set<String> = ["git", "ssh", "scp", "sftp", "rsync"]
        let command = words.first { !$0.contains("=") } ?? first  // skip `GIT_SSH_COMMAND=… git …` assignments
        return commands.contains((command as NSString).lastPathComponent)
    }
}
