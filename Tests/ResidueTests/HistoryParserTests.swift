import ResidueImage
import XCTest

final class HistoryParserTests: XCTestCase {
    func testClassicMetadataStep() {
        let instruction = HistoryParser.parse("/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter22 PATH=/usr/bin")
        XCTAssertEqual(instruction.keyword, "ENV")
        XCTAssertEqual(instruction.builder, .classic)
        XCTAssertEqual(instruction.assignments, [BuildArg(name: "DB_PASSWORD", value: "hunter22"), BuildArg(name: "PATH", value: "/usr/bin")])
    }

    func testClassicLegacyEnvSpaceForm() {
        let instruction = HistoryParser.parse("/bin/sh -c #(nop) ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305")
        XCTAssertEqual(instruction.assignments, [BuildArg(name: "GPG_KEY", value: "7169605F62C751356D054A26A821E680E5FA6305")])
    }

    func testClassicRunWithBuildArguments() {
        let instruction = HistoryParser.parse("|2 GITHUB_TOKEN=ghp_abc NPM_TOKEN=npm_x y /bin/sh -c npm ci && echo done")
        XCTAssertEqual(instruction.keyword, "RUN")
        XCTAssertEqual(instruction.arguments, "npm ci && echo done")
        XCTAssertEqual(instruction.shell, "/bin/sh -c")
        // A value with a space stays whole: pairs split only at ` NAME=`.
        XCTAssertEqual(instruction.buildArgs, [BuildArg(name: "GITHUB_TOKEN", value: "ghp_abc"), BuildArg(name: "NPM_TOKEN", value: "npm_x y")])
        XCTAssertEqual(instruction.text, "RUN npm ci && echo done")
    }

    func testClassicPlainRunAndExecForm() {
        XCTAssertEqual(HistoryParser.parse("/bin/sh -c apk add curl").text, "RUN apk add curl")
        let exec = HistoryParser.parse("/bin/busybox --install -s /bin")
        XCTAssertEqual(exec.keyword, "RUN")
        XCTAssertEqual(exec.arguments, "/bin/busybox --install -s /bin")
    }

    func testClassicCopy() {
        let instruction = HistoryParser.parse("/bin/sh -c #(nop) COPY file:0d5b1c in /root/.npmrc ")
        XCTAssertEqual(instruction.keyword, "COPY")
        XCTAssertEqual(instruction.arguments, "file:0d5b1c in /root/.npmrc")
    }

    func testBuildKitForms() {
        let arg = HistoryParser.parse("ARG NPM_TOKEN=npm_secretvalue", comment: "buildkit.dockerfile.v0")
        XCTAssertEqual(arg.keyword, "ARG")
        XCTAssertEqual(arg.builder, .buildkit)
        XCTAssertEqual(arg.buildArgs, [BuildArg(name: "NPM_TOKEN", value: "npm_secretvalue")])

        let run = HistoryParser.parse("RUN |1 NPM_TOKEN=npm_secretvalue /bin/sh -c npm ci # buildkit", comment: "buildkit.dockerfile.v0")
        XCTAssertEqual(run.keyword, "RUN")
        XCTAssertEqual(run.arguments, "npm ci")
        XCTAssertEqual(run.buildArgs, [BuildArg(name: "NPM_TOKEN", value: "npm_secretvalue")])

        let copy = HistoryParser.parse("COPY . /app # buildkit")
        XCTAssertEqual(copy.text, "COPY . /app")
        XCTAssertEqual(copy.builder, .buildkit)

        let plain = HistoryParser.parse("RUN /bin/sh -c apk add --no-cache git # buildkit")
        XCTAssertEqual(plain.arguments, "apk add --no-cache git")
        XCTAssertTrue(plain.buildArgs.isEmpty)
    }

    func testArgWithoutValueHasNoValue() {
        let arg = HistoryParser.parse("/bin/sh -c #(nop) ARG GITHUB_TOKEN")
        XCTAssertEqual(arg.buildArgs, [BuildArg(name: "GITHUB_TOKEN", value: "")])
    }

    func testQuotedEnvValues() {
        let instruction = HistoryParser.parse(#"ENV A="two words" B='x y' C=plain"#)
        XCTAssertEqual(instruction.assignments.map(\.value), ["two words", "x y", "plain"])
    }

    func testEmptyAndUnknownNeverFail() {
        XCTAssertEqual(HistoryParser.parse("").keyword, "")
        XCTAssertEqual(HistoryParser.parse("|x nonsense").keyword, "RUN")
        XCTAssertEqual(HistoryParser.parse("|3 A=1").buildArgs, [BuildArg(name: "A", value: "1")])
    }

    func testLayoutSkipsEmptyLayers() {
        let history = [
            HistoryEntry(created_by: "ADD base"),
            HistoryEntry(created_by: "ARG X", empty_layer: true),
            HistoryEntry(created_by: "RUN a"),
            HistoryEntry(created_by: "ENV Y=1", empty_layer: true),
            HistoryEntry(created_by: "COPY b"),
        ]
        XCTAssertEqual(HistoryLayout(history: history, layerCount: 3).historyIndexForLayer, [0, 2, 4])
        // A history shorter than the layers leaves the extra layers unattributed.
        XCTAssertEqual(HistoryLayout(history: Array(history.prefix(3)), layerCount: 3).historyIndexForLayer, [0, 2, nil])
    }
}
