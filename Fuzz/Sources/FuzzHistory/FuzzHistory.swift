import FuzzDriver
import ResidueImage

/// created_by lines: parsing never traps, whatever the bytes.
@_cdecl("FuzzHistory_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data!, size) }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let instruction = HistoryParser.parse(text, comment: size % 2 == 0 ? "buildkit.dockerfile.v0" : nil)
    _ = instruction.assignments
    _ = instruction.text
    let entries = text.split(separator: "\n").map { HistoryEntry(created_by: String($0), empty_layer: $0.hasPrefix("ARG")) }
    _ = HistoryLayout(history: entries, layerCount: size % 7)
    return 0
}
