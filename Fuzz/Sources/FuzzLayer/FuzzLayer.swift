import FuzzDriver
import ResidueArchive
@testable import ResidueImage
import ResidueRules
@testable import ResidueScan

/// A layer blob (any compression, any tar damage) walked like a real one: whiteouts, file
/// status, nested archives, rules. Errors are fine; traps and hangs are not.
nonisolated(unsafe) let ruleSet = try! RuleSet.defaults()

@_cdecl("FuzzLayer_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data!, size) }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let digest = Digest.sha256(of: bytes)
    let layer = LayerBlob(index: 0, digest: digest, diffID: nil, mediaType: nil, size: Int64(size)) {
        VerifyingSource(MemorySource(bytes), expected: digest, size: Int64(size), what: "fuzz layer")
    }
    var limits = ScanLimits()
    limits.windowSize = 64 << 10
    limits.windowOverlap = 4 << 10
    guard let result = try? LayerWalker(ruleSet: ruleSet, limits: limits).walk(layer) else { return 0 }
    let resolver = StatusResolver(layers: [result.changes, result.changes])
    for hit in result.hits { _ = resolver.status(of: hit.containerPath, inLayer: 0) }
    return 0
}
