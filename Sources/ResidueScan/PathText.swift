/// Path helpers on UTF-8 bytes for the per-entry hot path (a layer holds tens of thousands of
/// entries; Foundation's NSString path methods cost more than scanning a small file does).
enum PathText {
    static let slash = UInt8(ascii: "/")
    static let dot = UInt8(ascii: ".")

    /// The common tar entry name (`usr/bin/x`, `./usr/bin/x`) made absolute without splitting
    /// it; nil when it needs the full `normalizePath` (`.`/`..`/empty parts, trailing slash).
    static func fastNormalized(_ name: String) -> String? {
        var rest = Substring(name)
        while rest.utf8.starts(with: [dot, slash]) { rest = rest.dropFirst(2) }
        let candidate = rest.utf8.first == slash ? String(rest) : "/" + rest
        return isNormalized(candidate) ? candidate : nil
    }

    /// `path` is already `/a/b` form: one leading slash, no empty, `.` or `..` part, no
    /// trailing slash.
    static func isNormalized(_ path: String) -> Bool {
        let bytes = path.utf8
        guard bytes.first == slash else { return false }
        if bytes.count == 1 { return true }
        guard bytes.last != slash else { return false }
        var partLength = 0
        var dots = 0
        for byte in bytes.dropFirst() {
            if byte == slash {
                if partLength == 0 || (dots == partLength && partLength <= 2) { return false }
                partLength = 0
                dots = 0
            } else {
                partLength += 1
                if byte == dot { dots += 1 }
            }
        }
        return !(dots == partLength && partLength <= 2)
    }

    /// `/a/b/c` → (`/a/b`, `c`); `/c` → (`/`, `c`).
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.utf8.lastIndex(of: slash) else { return ("", path) }
        let name = String(path[path.index(after: slash)...])
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, name)
    }
}
