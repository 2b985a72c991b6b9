import FuzzDriver
import ResidueRules

/// Rule files from users: loading and compiling report errors, never trap; a rule that loads
/// runs over its own text.
@_cdecl("FuzzRules_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data!, size) }
}

func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let rules = try? RuleLoader.parse(text, origin: "fuzz.toml"), let set = try? RuleSet(rules) else { return 0 }
    _ = Matcher(set).scan(text: text, path: "/fuzz")
    _ = RuleTester.run(set)
    return 0
}
