import Foundation
import ResidueDockerfile
import ResidueRules
import XCTest

final class DockerfileParserTests: XCTestCase {
    func testContinuationsCommentsDirectivesAndForms() throws {
        let text = """
        # syntax=docker/dockerfile:1.7
        # escape=\\
        ARG BASE=alpine
        ARG VERSION=3.19
        FROM ${BASE}:${VERSION} AS build
        # a comment
        RUN apk add --no-cache \\
        # comment inside a continuation
            curl \\

            git
        COPY --chmod=600 --chown=1000:1000 --link a.txt /a.txt
        CMD ["sh", "-c", "echo hi"]

        FROM build
        COPY --from=build /a.txt /b.txt
        """
        let dockerfile = try DockerfileParser.parse(text)
        XCTAssertEqual(dockerfile.directives.map(\.name), ["syntax", "escape"])
        XCTAssertEqual(dockerfile.globalArgs, ["BASE": "alpine", "VERSION": "3.19"])
        XCTAssertEqual(dockerfile.stages.count, 2)
        XCTAssertEqual(dockerfile.stages[0].base, "alpine:3.19")
        XCTAssertEqual(dockerfile.stages[0].name, "build")
        XCTAssertEqual(dockerfile.stages[1].baseStage, 0)
        XCTAssertEqual(dockerfile.stagesInFinalImage, [0, 1])
        let run = dockerfile.instructions.first { $0.keyword == "RUN" }!
        XCTAssertEqual(run.startLine, 7)
        XCTAssertEqual(run.endLine, 11)
        XCTAssertEqual(run.arguments.split(whereSeparator: \.isWhitespace), ["apk", "add", "--no-cache", "curl", "git"])
        let copy = dockerfile.instructions.first { $0.keyword == "COPY" }!
        XCTAssertEqual(copy.flag("chmod"), "600")
        XCTAssertEqual(copy.flag("chown"), "1000:1000")
        XCTAssertEqual(copy.flag("link"), "")
        XCTAssertEqual(copy.arguments, "a.txt /a.txt")
        XCTAssertEqual(dockerfile.instructions.first { $0.keyword == "CMD" }!.execForm, ["sh", "-c", "echo hi"])
        XCTAssertEqual(dockerfile.instructions.last!.flag("from"), "build")
    }

    func testEscapeDirectiveBacktick() throws {
        let dockerfile = try DockerfileParser.parse("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  C:\\\\\n")
        XCTAssertEqual(dockerfile.escape, "`")
        let run = dockerfile.instructions[1]
        XCTAssertEqual(run.endLine, 4)
        XCTAssertTrue(run.arguments.hasSuffix("C:\\\\"))
    }

    func testHeredocs() throws {
        let text = "FROM alpine\nRUN <<EOF\nset -e\necho \"$TOKEN\"\nEOF\nCOPY <<-'CONF' /etc/app.conf\n\tkey=value\n\tCONF\nRUN echo done\n"
        let dockerfile = try DockerfileParser.parse(text)
        let run = dockerfile.instructions[1]
        XCTAssertEqual(run.heredocs.first?.body, "set -e\necho \"$TOKEN\"\n")
        XCTAssertEqual(run.endLine, 5)
        let copy = dockerfile.instructions[2]
        XCTAssertEqual(copy.heredocs.first?.body, "key=value\n")
        XCTAssertTrue(copy.heredocs.first!.quoted)
        XCTAssertEqual(dockerfile.instructions[3].startLine, 9)
        // `<<<` is a here-string and `"<<EOF"` is quoted: neither starts a heredoc
        XCTAssertEqual(try DockerfileParser.parse("FROM a\nRUN cat <<< hi && echo '<<EOF'\n").instructions[1].heredocs.count, 0)
    }

    func testErrorsCarryTheLine() {
        func error(_ text: String) -> DockerfileParseError? {
            do { _ = try DockerfileParser.parse(text); return nil } catch { return error as? DockerfileParseError }
        }
        XCTAssertEqual(error("FROM a\n\nRUNN echo\n")?.line, 3)
        XCTAssertEqual(error("COPY a /b\nFROM a\n")?.line, 1)
        XCTAssertEqual(error("FROM a\nRUN <<EOF\necho\n")?.line, 2)
        XCTAssertEqual(error("# nothing\n")?.message, "no FROM instruction")
        XCTAssertEqual(error("FROM a\nRUN\n")?.line, 2)
        XCTAssertEqual(error("# escape=x\nFROM a\n")?.line, 1)
    }

    func testSubstitution() {
        let variables = ["A": "1", "EMPTY": ""]
        XCTAssertEqual(Substitution.expand("$A-${A}-${B:-two}-${EMPTY:-x}-${EMPTY-y}-${A:+set}-\\$A", variables: variables), "1-1-two-x--set-$A")
        XCTAssertEqual(Substitution.references(in: "echo $TOKEN ${NPM_TOKEN:-} $$ $1x"), ["TOKEN", "NPM_TOKEN", "1x"])
    }

    func testIgnorePatterns() {
        let ignore = IgnorePatterns("# comment\n*.pem\n!keep.pem\n**/.env\nsecrets/\n/build\ndocs/**/*.md\n")
        XCTAssertTrue(ignore.excludes("server.pem"))
        XCTAssertFalse(ignore.excludes("keep.pem"))
        XCTAssertFalse(ignore.excludes("sub/server.pem"), "* does not cross folders")
        XCTAssertTrue(ignore.excludes(".env"))
        XCTAssertTrue(ignore.excludes("a/b/.env"))
        XCTAssertTrue(ignore.excludes("secrets/x/y"), "a folder pattern excludes what is under it")
        XCTAssertTrue(ignore.excludes("build/out"))
        XCTAssertTrue(ignore.excludes("docs/a/b/c.md"))
        XCTAssertTrue(ignore.excludes("docs/c.md"))
        XCTAssertFalse(ignore.excludes("src/main.go"))
        XCTAssertTrue(IgnorePatterns.select(".", "any/file"))
        XCTAssertTrue(IgnorePatterns.select("config-*/", "config-amd64/key"))
    }

    func testCredentialFileNames() {
        XCTAssertEqual(CredentialFiles.classify("home/.npmrc")?.kind, .file)
        XCTAssertEqual(CredentialFiles.classify("id_rsa")?.kind, .sshKey)
        XCTAssertNil(CredentialFiles.classify("id_rsa.pub"))
        XCTAssertEqual(CredentialFiles.classify("app/.git/config")?.path, "app/.git")
        XCTAssertEqual(CredentialFiles.classify(".aws/credentials")?.kind, .folder)
        XCTAssertEqual(CredentialFiles.classify("root/.docker/config.json")?.kind, .file)
        XCTAssertEqual(CredentialFiles.classify("tls/server.pem")?.kind, .file)
        XCTAssertNotNil(CredentialFiles.classify(".env.production"))
        XCTAssertNil(CredentialFiles.classify(".env.example"))
        XCTAssertNil(CredentialFiles.classify("src/environment.ts"))
    }
}

/// The linter and the fixer on Dockerfiles written here, with a build context in a temp folder.
final class DockerfileLintTests: XCTestCase {
    var folder: URL!
    static let ruleSet = try! RuleSet.defaults()

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("residue-lint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func write(_ files: [String: String]) throws {
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
    }

    func lint(_ text: String, context: Bool = true) throws -> DockerfileLint {
        try write(["Dockerfile": text])
        var options = DockerfileLintOptions()
        options.readContext = context
        let dockerfile = try DockerfileParser.parse(contentsOf: folder.appendingPathComponent("Dockerfile").path)
        return DockerfileLinter(ruleSet: Self.ruleSet, options: options).lint(dockerfile)
    }

    func testInlineSecretsInRun() throws {
        let result = try lint("""
        FROM alpine
        RUN curl -H "Authorization: Bearer Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5" https://api.example.com
        RUN mysql -u root -pS3cr3tPassw0rd -e 'select 1'
        RUN tool login --password=Q29ycmVjdEhvcnNl --user me
        RUN git clone https://deploy:glpat-ygSoWbR1rtDFot12DQKl@gitlab.example.com/a/b.git
        RUN mkdir -p /app && curl -u "$USER:$PASS" https://x && echo --password=$PASSWORD
        """, context: false)
        let lines = result.report.findings.map(\.line)
        XCTAssertEqual(lines, [2, 3, 4, 5], "\(result.report.findings.map { ($0.line, $0.ruleId) })")
        XCTAssertFalse(result.report.findings.contains { $0.instruction.contains("S3cr3tPassw0rd") }, "secrets are redacted")
        let fixed = DockerfileFixer(portable: false).fix(result)
        XCTAssertTrue(fixed.text.contains("RUN --mount=type=secret,id=auth_token,env=AUTH_TOKEN curl -H \"Authorization: Bearer ${AUTH_TOKEN}\""), fixed.text)
        XCTAssertTrue(fixed.text.contains("-p${PASSWORD}"), fixed.text)
        XCTAssertFalse(fixed.text.contains("glpat-ygSoWbR1rtDFot12DQKl"), fixed.text)
        XCTAssertTrue(fixed.text.hasPrefix("# syntax=docker/dockerfile:1.10\n"))
    }

    func testCopyDotWithDockerignore() throws {
        try write([".npmrc": "//registry.npmjs.org/:_authToken=npm_qiqQkCMSlGeS7ZrPB58aa2F2RzLXKA59lKOi\n",
                   ".env": "X=1\n", "keys/server.pem": "x", ".git/config": "[core]\n", "src/index.js": "1\n",
                   ".dockerignore": ".git\n*.pem\n**/*.pem\n"])
        let result = try lint("FROM node\nWORKDIR /app\nCOPY . .\n")
        let paths = result.report.findings.map { $0.path ?? "" }.sorted()
        XCTAssertEqual(paths, [".env", ".npmrc"])
        XCTAssertEqual(result.report.findings.first { $0.path == ".npmrc" }?.target, "/app/.npmrc")
        XCTAssertTrue(result.report.findings[0].message.contains(".dockerignore does not exclude it"))
        XCTAssertFalse(result.report.findings[0].fixable)
    }

    func testBuilderStageIsLowerAndFinalStageFromBuilderIsNot() throws {
        let result = try lint("""
        FROM alpine AS deps
        ARG NPM_TOKEN
        RUN echo "$NPM_TOKEN" > /dev/null
        FROM alpine AS app
        ARG API_KEY
        RUN test -n "$API_KEY"
        FROM app
        CMD ["app"]
        """, context: false)
        let bySeverity = Dictionary(uniqueKeysWithValues: result.report.findings.map { ($0.key ?? "", $0.severity) })
        XCTAssertEqual(bySeverity["NPM_TOKEN"], .medium)
        XCTAssertEqual(bySeverity["API_KEY"], .high, "the final stage is built FROM app: its history ships")
        XCTAssertTrue(result.report.findings.first { $0.key == "NPM_TOKEN" }!.message.contains("Severity lowered from high to medium"))
    }

    func testFixKeepsUntouchedLinesByteForByte() throws {
        let text = "FROM alpine\r\n# keep me  \r\nARG GITHUB_TOKEN\r\nRUN   echo  keep \\\r\n   && true\r\nRUN test -n \"$GITHUB_TOKEN\" \\\r\n  && echo ok\r\nENV A=1 DB_PASSWORD=RA6JFkmCkujMRarFj1dR\r\n"
        let result = try lint(text, context: false)
        let fixed = DockerfileFixer(portable: true).fix(result)
        XCTAssertEqual(fixed.text, "FROM alpine\r\n# keep me  \r\nRUN   echo  keep \\\r\n   && true\r\nRUN --mount=type=secret,id=github_token export GITHUB_TOKEN=\"$(cat /run/secrets/github_token)\" && test -n \"$GITHUB_TOKEN\" \\\r\n  && echo ok\r\n# residue: ENV DB_PASSWORD removed: the image config kept its value. Provide it at run time (docker run -e DB_PASSWORD, a Kubernetes Secret, a mounted secret file).\r\nENV A=1\r\n")
        let diff = UnifiedDiff.make(fixed.original, fixed.text, oldName: "a", newName: "b")
        XCTAssertTrue(diff.contains("-ARG GITHUB_TOKEN\n"), diff)
        XCTAssertTrue(diff.hasPrefix("--- a\n+++ b\n@@ -1,"), diff)
    }

    func testCopiedKeyUsedByGitBecomesSSHMount() throws {
        try write(["id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n"])
        let result = try lint("""
        FROM alpine
        COPY id_ed25519 /root/.ssh/id_ed25519
        RUN git clone git@github.com:example/app.git /app && \\
            make -C /app
        RUN rm /root/.ssh/id_ed25519 && echo cleaned
        """)
        XCTAssertEqual(result.report.findings.map(\.ruleId), ["dockerfile-credential-copy-rm"])
        let fixed = DockerfileFixer(portable: false).fix(result)
        XCTAssertEqual(fixed.text, """
        FROM alpine
        RUN --mount=type=ssh git clone git@github.com:example/app.git /app && \\
            make -C /app
        RUN echo cleaned
        """)
        XCTAssertEqual(fixed.buildFlags, ["--ssh default"])
    }
}
