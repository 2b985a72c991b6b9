/// What kind of text a file is, from its name: it decides what counts as a value in an
/// assignment (AssignmentSyntax). Known from the name alone, so it costs nothing per byte.
public enum TextKind: Sendable, Equatable {
    /// Source code: only string literals are values (`password = getPassword()` assigns a call).
    case code
    /// Configuration and scripts (`.env`, INI, YAML, properties, TOML, JSON, shell, a Dockerfile,
    /// an image's config values and history lines): bare values are values.
    case config
    /// Prose and markup (READMEs, Markdown, HTML, man pages, changelogs): `password: hunter2abc`
    /// there is a sentence or an instruction to the reader, not a setting.
    case prose

    /// The kind of the file at `path`; nil (a config value or history line) is configuration.
    public static func of(path: String?) -> TextKind {
        guard let path else { return .config }
        if path.hasPrefix("/usr/share/doc/") || path.hasPrefix("/usr/share/man/") || path.hasPrefix("/usr/share/info/")
            || path.hasPrefix("usr/share/doc/") || path.hasPrefix("usr/share/man/") {
            return .prose
        }
        // The last name after a '/' or, inside an archive, a '!' (`app.jar!/Config.java`).
        let name = path.split(whereSeparator: { $0 == "/" || $0 == "!" }).last.map { $0.lowercased() } ?? ""
        var stem = name
        // A compressed file keeps its kind (`ls.1.gz`, `NEWS.md.gz`).
        for suffix in [".gz", ".bz2", ".xz", ".zst"] where stem.hasSuffix(suffix) { stem.removeLast(suffix.count) }
        if let dot = stem.lastIndex(of: ".") {
            let ext = String(stem[stem.index(after: dot)...])
            if codeExtensions.contains(ext) { return .code }
            if proseExtensions.contains(ext) { return .prose }
            // Man pages: `ls.1`, `open.2`, `printf.3p`.
            if let first = ext.first, first.isNumber, ext.count <= 3, stem.dropLast(ext.count + 1).count > 0 { return .prose }
        }
        let base = stem.split(separator: ".").first.map(String.init) ?? stem
        if proseNames.contains(base) { return .prose }
        return .config
    }

    static let codeExtensions: Set<String> = [
        "go", "py", "pyi", "pyx", "rb", "rake", "gemspec", "js", "mjs", "cjs", "jsx", "ts", "tsx", "mts", "cts", "vue", "svelte",
        "java", "kt", "kts", "scala", "groovy", "gradle", "clj", "cljs", "cljc", "c", "h", "cc", "cpp", "cxx", "c++", "hpp", "hh",
        "hxx", "ipp", "inl", "tcc", "m", "mm", "cs", "fs", "fsx", "vb", "php", "rs", "swift", "pl", "pm", "t", "lua", "r", "dart",
        "ex", "exs", "erl", "hrl", "hs", "lhs", "jl", "nim", "zig", "sol", "coffee", "elm", "ml", "mli", "tcl", "d", "f90", "ada",
        "adb", "ads", "pas", "cr", "v", "sv", "vhd", "proto", "thrift", "graphql",
        // A source map: JSON whose strings are the original source code.
        "map",
    ]
    /// Not `.txt`: `credentials.txt` and `secrets.txt` are notes people leave in images, and
    /// their `password: …` lines are settings, not sentences.
    static let proseExtensions: Set<String> = [
        "md", "markdown", "mdx", "rst", "html", "htm", "xhtml", "adoc", "asciidoc", "asc", "tex", "texi",
        "texinfo", "info", "pod", "rdoc", "man", "po", "pot", "org", "textile", "ronn",
    ]
    static let proseNames: Set<String> = [
        "readme", "changelog", "changes", "news", "history", "license", "licence", "copying", "copyright", "authors",
        "contributors", "notice", "todo", "faq", "thanks",
    ]
}
