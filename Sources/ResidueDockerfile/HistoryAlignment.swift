import Foundation
import ResidueImage
import ResidueScan

/// Lines an image's build history up with the Dockerfile it was (or was not) built from.
///
/// The history ends with the final stage: its instructions (and those of the stages it is
/// built `FROM`), FROM excluded, map one to one onto the last history entries, compared from
/// the end. RUNs must run the same command (whitespace aside), COPY/ADD must write to the same
/// place, ENV/ARG/LABEL must set the same names (buildah repeats earlier ARG names, so the
/// Dockerfile's must be among them), other instructions the same keyword. The entries before
/// are the base image's. Any difference means another build: the alignment says where, and
/// attributes nothing.
public struct HistoryAlignment: Sendable {
    /// history index → Dockerfile line, for the final stage's entries.
    public let lineForHistory: [Int: Int]
    public let matched: Bool
    public let firstHistoryIndex: Int?
    public let note: String

    public init(dockerfile: Dockerfile, history: [Instruction]) {
        let inFinal = dockerfile.stagesInFinalImage.sorted()
        let instructions = inFinal.flatMap { dockerfile.stages[$0].instructions }.map { dockerfile.instructions[$0] }
            .filter { $0.keyword != "ONBUILD" || true }
        var map: [Int: Int] = [:]
        var i = history.count - 1
        var j = instructions.count - 1
        var failure: String?
        while j >= 0 {
            let wanted = instructions[j]
            guard i >= 0 else {
                failure = "the history ends before line \(wanted.startLine) (\(wanted.keyword)): it has fewer steps than the Dockerfile's final stage"
                break
            }
            let entry = history[i]
            if Self.matches(entry, wanted, dockerfile: dockerfile) {
                map[i] = wanted.startLine
                i -= 1; j -= 1
            } else if wanted.keyword == "ARG" {
                j -= 1  // some builders record no entry for an ARG
            } else if entry.keyword.isEmpty {
                i -= 1
            } else {
                failure = entry.keyword == wanted.keyword
                    ? "history #\(i) (\(entry.keyword)) differs from line \(wanted.startLine) (\(wanted.keyword) \(Self.differenceWord(wanted.keyword)))"
                    : "history #\(i) is \(entry.keyword), line \(wanted.startLine) is \(wanted.keyword)"
                break
            }
        }
        if let failure {
            lineForHistory = [:]
            matched = false
            firstHistoryIndex = nil
            note = "does not match this image's history (\(failure)); findings are not attributed to its lines. Was the image built from another version of it?"
        } else {
            lineForHistory = map
            matched = true
            firstHistoryIndex = i + 1
            let stage = dockerfile.finalStage.name.map { "stage \($0)" } ?? "the final stage"
            note = "history #\(i + 1)–#\(history.count - 1) match \(stage) (lines \(instructions.first?.startLine ?? 0)–\(instructions.last?.endLine ?? 0)); history #0–#\(i) \(i == 0 ? "is" : "are") the base image \(dockerfile.finalStage.base)"
        }
    }

    static func differenceWord(_ keyword: String) -> String {
        switch keyword {
        case "RUN": return "runs another command"
        case "COPY", "ADD": return "writes elsewhere"
        default: return "sets other names"
        }
    }

    static func normalized(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static func stripped(_ text: String) -> String { text.filter { !$0.isWhitespace } }

    static func destination(ofHistory entry: Instruction) -> String {
        if let range = entry.arguments.range(of: " in ", options: .backwards) {
            return entry.arguments[range.upperBound...].trimmingCharacters(in: .whitespaces)
        }
        return entry.arguments.split(whereSeparator: \.isWhitespace).last.map(String.init) ?? ""
    }

    static func sameDestination(_ a: String, _ b: String) -> Bool {
        if a.contains("$") || b.contains("$") { return true }
        let x = a.hasSuffix("/") && a.count > 1 ? String(a.dropLast()) : a
        let y = b.hasSuffix("/") && b.count > 1 ? String(b.dropLast()) : b
        return x == y || x.hasSuffix("/" + y) || y.hasSuffix("/" + x) || (x == "." || y == ".")
    }

    static func matches(_ entry: Instruction, _ wanted: DockerfileInstruction, dockerfile: Dockerfile) -> Bool {
        guard entry.keyword == wanted.keyword else { return false }
        switch wanted.keyword {
        case "RUN":
            if wanted.execForm != nil { return stripped(entry.arguments) == stripped(wanted.arguments) }
            if !wanted.heredocs.isEmpty { return normalized(entry.arguments).hasPrefix(normalized(wanted.arguments)) || normalized(entry.arguments).contains(normalized(wanted.heredocs[0].body)) }
            return normalized(entry.arguments) == normalized(wanted.arguments)
        case "COPY", "ADD":
            let words = wanted.execForm ?? DockerfileLinter.words(wanted.arguments)
            guard let last = words.last else { return false }
            return sameDestination(destination(ofHistory: entry), last)
        case "ENV", "LABEL", "ARG":
            let names = Set(Assignments.parse(wanted.arguments, legacySpaceForm: wanted.keyword == "ENV").map(\.name))
            var recorded = Set(entry.assignments.map(\.name))
            recorded.formUnion(entry.buildArgs.map(\.name))
            return names.isSubset(of: recorded)
        default:
            return true
        }
    }
}

public enum DockerfileAttribution {
    /// Resolves the scanned image's history again, lines it up with `dockerfile`, and adds
    /// `location.dockerfile` to each finding whose history entry lies in the final stage.
    public static func attach(_ dockerfile: Dockerfile, path: String, images: [ResolvedImage], to report: inout ScanReport) {
        var alignments: [String: HistoryAlignment] = [:]
        var histories: [String: [Instruction]] = [:]
        let finalInstructions = dockerfile.stagesInFinalImage.sorted().flatMap { dockerfile.stages[$0].instructions }.map { dockerfile.instructions[$0] }
        var matchImages: [DockerfileMatch.Image] = []
        for image in images {
            let history = (image.config.history ?? []).map { HistoryParser.parse($0.created_by ?? "", comment: $0.comment) }
            let alignment = HistoryAlignment(dockerfile: dockerfile, history: history)
            let platform = image.platform?.description
            alignments[platform ?? ""] = alignment
            histories[platform ?? ""] = history
            matchImages.append(.init(platform: platform, matched: alignment.matched, firstHistoryIndex: alignment.firstHistoryIndex, note: alignment.note))
        }
        report.dockerfile = DockerfileMatch(path: path, images: matchImages)
        func located(_ location: Location) -> Location {
            var copy = location
            if let alignment = alignments[location.platform ?? ""], let index = location.historyIndex, var line = alignment.lineForHistory[index] {
                // a build argument recorded on a RUN comes from its ARG: point there
                if location.kind == .history, let key = location.key, let entry = histories[location.platform ?? ""]?[index],
                   entry.buildArgs.contains(where: { $0.name == key }) || entry.keyword == "ARG",
                   let declaration = finalInstructions.last(where: { $0.keyword == "ARG" && $0.startLine <= line
                       && Assignments.parse($0.arguments).contains { $0.name == key } }) {
                    line = declaration.startLine
                }
                copy.dockerfile = DockerfileLocation(path: path, line: line)
            }
            return copy
        }
        for index in report.findings.indices {
            report.findings[index].location = located(report.findings[index].location)
            report.findings[index].alsoAt = report.findings[index].alsoAt?.map(located)
        }
    }
}
