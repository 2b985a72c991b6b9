import Foundation

/// One line for a file that decoded but does not have the expected shape (a rule file,
/// `.residue.toml`): what is missing or wrong, and where, by key path (`rules.[3].regex`).
/// ResidueImage words image JSON errors the same way (it does not depend on this module).
public enum DecodingErrorText {
    public static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case let .keyNotFound(key, context): return "missing \"\(key.stringValue)\"\(at(context))"
        case let .typeMismatch(type, context): return "expected \(type)\(at(context))"
        case let .valueNotFound(_, context): return "missing value\(at(context))"
        case let .dataCorrupted(context): return "\(context.debugDescription)\(at(context))"
        @unknown default: return "undecodable"
        }
    }
}
