import FuzzDriver
@testable import ResidueImage

/// Manifests, indexes and configs as a registry or archive might serve them.
@_cdecl("FuzzImageJSON_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data!, size) }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? decode(ImageIndex.self, from: bytes, what: "fuzz")
    _ = try? decode(ImageManifest.self, from: bytes, what: "fuzz")
    if let config = try? decode(ImageConfig.self, from: bytes, what: "fuzz") {
        _ = config.platform
        for entry in config.history ?? [] { _ = HistoryParser.parse(entry.created_by ?? "", comment: entry.comment) }
    }
    _ = try? decode([DockerArchiveSource.Entry].self, from: bytes, what: "fuzz")
    _ = repairedJSONText(bytes)
    return 0
}
