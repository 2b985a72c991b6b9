import CSQLite
import Foundation
import ResidueArchive
import ResidueRules
import ResidueScan

public struct CacheError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Layer results kept across runs in an SQLite database, by layer digest and by a version of
/// everything that decides a layer's result (the rules, the scan limits, this format). A layer
/// shared by many images, or an image scanned again, is read once.
///
/// Never holds a secret in clear: a hit is stored as its rule, path, line, masked form,
/// fingerprint, confidence and a keyed hash of the secret (`SealedSecret`; the key is a random
/// file next to the database, mode 0600). That is all a redacted report needs; `--show-secrets`
/// and allowlists that test the secret itself (regexes, stopwords) walk the layers that had
/// such findings again.
public final class SQLiteLayerStore: LayerResultStore, @unchecked Sendable {
    /// Bump when what a layer result holds, or how it is computed, changes.
    /// v2: hits carry their confidence (decided while the secret was in clear).
    // v3: written paths sorted by UTF-8 bytes (PathSet searches them in place).
    static let formatVersion = "residue-layer-cache-v3"

    public let directory: URL
    public let version: String
    public let sealer: SecretSealer?
    private let database: OpaquePointer
    private let lock = NSLock()

    /// `$XDG_CACHE_HOME/residue`, else `~/.cache/residue`.
    public static var defaultDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("residue")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/residue")
    }

    /// Opens (creating) the cache in `directory` for results computed with `ruleSet` and `limits`.
    public init(directory: URL, ruleSet: RuleSet, limits: ScanLimits) throws {
        self.directory = directory
        version = Self.version(ruleSet: ruleSet, limits: limits)
        let path = directory.path
        do {
            try PrivateFile.makePrivateDirectory(path)
        } catch {
            throw CacheError(message: "cache \(path): cannot create the folder: \(error.localizedDescription)")
        }
        sealer = KeyedSecretSealer(key: try Self.key(in: directory))
        var handle: OpaquePointer?
        let file = directory.appendingPathComponent("layers.sqlite").path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        guard sqlite3_open_v2(file, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw CacheError(message: "cache \(file): \(message)")
        }
        database = handle
        chmod(file, 0o600)
        sqlite3_busy_timeout(handle, 10_000) // several workers may share one cache
        do {
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
            try execute("""
                CREATE TABLE IF NOT EXISTS layers (
                    digest TEXT NOT NULL,
                    version TEXT NOT NULL,
                    written BLOB NOT NULL,
                    whiteouts BLOB NOT NULL,
                    opaque BLOB NOT NULL,
                    summary TEXT NOT NULL,
                    stored INTEGER NOT NULL,
                    PRIMARY KEY (digest, version)
                ) WITHOUT ROWID
                """)
        } catch {
            sqlite3_close(handle)
            throw error
        }
    }

    deinit { sqlite3_close(database) }

    /// What decides a layer's result: every field of every rule, the scan limits, this format.
    static func version(ruleSet: RuleSet, limits: ScanLimits) -> String {
        // Every rule field, as sorted-key JSON (String(describing:) walked each rule by
        // reflection: 8% of a warm rescan).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array((formatVersion + "\u{0}" + String(describing: limits)).utf8)
        for compiled in ruleSet.rules {
            bytes.append(0)
            bytes += (try? encoder.encode(compiled.rule)).map { Array($0) } ?? Array(String(describing: compiled.rule).utf8)
        }
        return Digest.sha256(of: bytes).hex
    }

    /// The sealing key: 32 random bytes in `key`, created once, readable by its owner only.
    static func key(in directory: URL) throws -> [UInt8] {
        let url = directory.appendingPathComponent("key")
        if let data = try? Data(contentsOf: url), data.count == 32 { return Array(data) }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        do {
            try PrivateFile.write(key, to: url.path)
        } catch {
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw CacheError(message: "cache \(directory.path): cannot write its key")
            }
        }
        // Another process may have won the race: use whatever key is there now.
        if let data = try? Data(contentsOf: url), data.count == 32 { return Array(data) }
        throw CacheError(message: "cache \(directory.path): cannot read its key")
    }

    // MARK: LayerResultStore

    public func result(for digest: Digest) -> LayerResult? {
        lock.withLock {
            let sql = "SELECT written, whiteouts, opaque, summary FROM layers WHERE digest = ? AND version = ?"
            guard let statement = try? prepare(sql) else { return nil }
            defer { sqlite3_finalize(statement) }
            bind(statement, 1, digest.description)
            bind(statement, 2, version)
            guard sqlite3_step(statement) == SQLITE_ROW else { return nil }
            var result = LayerResult(digest: digest)
            // Path lists: sorted by UTF-8 bytes, NUL-separated (PathSet.packedBytes), searched in place.
            result.changes = LayerChanges(written: PathSet(packed: Self.blob(statement, 0)),
                                          whiteouts: PathSet(packed: Self.blob(statement, 1)),
                                          opaqueDirectories: PathSet(packed: Self.blob(statement, 2)))
            guard let text = sqlite3_column_text(statement, 3),
                  let summary = try? JSONDecoder().decode(StoredSummary.self, from: Data(String(cString: text).utf8))
            else { return nil }
            result.hits = summary.hits.map { hit in
                LayerFileHit(ruleId: hit.ruleId, sealed: hit.sealed, redacted: hit.redacted, fingerprint: hit.fingerprint,
                             path: hit.path, containerPath: hit.containerPath, line: hit.line,
                             assessment: hit.confidence.map { Assessment(confidence: $0, reason: hit.confidenceNote) })
            }
            result.filesScanned = summary.filesScanned
            result.bytesScanned = summary.bytesScanned
            result.skipped = summary.skipped
            result.compression = summary.compression
            return result
        }
    }

    public func store(_ result: LayerResult) {
        // A layer a limit cut short was never checked against its digest: a forged blob that
        // claims a real layer's digest must not answer for that layer in later scans.
        guard let sealer, result.digestVerified else { return }
        let summary = StoredSummary(
            hits: result.hits.compactMap { hit in
                guard let sealed = hit.sealed ?? hit.secret.map({ sealer.seal(Array($0.utf8)) }) else { return nil }
                return StoredHit(ruleId: hit.ruleId, path: hit.path, containerPath: hit.containerPath, line: hit.line,
                                 redacted: hit.redacted, fingerprint: hit.fingerprint, sealed: sealed,
                                 confidence: hit.assessment?.confidence, confidenceNote: hit.assessment?.reason)
            },
            filesScanned: result.filesScanned, bytesScanned: result.bytesScanned, skipped: result.skipped,
            compression: result.compression)
        guard let json = try? JSONEncoder().encode(summary) else { return }
        lock.withLock {
            let sql = """
                INSERT OR REPLACE INTO layers (digest, version, written, whiteouts, opaque, summary, stored)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
            guard let statement = try? prepare(sql) else { return }
            defer { sqlite3_finalize(statement) }
            bind(statement, 1, result.digest.description)
            bind(statement, 2, version)
            bindBlob(statement, 3, result.changes.written.packedBytes)
            bindBlob(statement, 4, result.changes.whiteouts.packedBytes)
            bindBlob(statement, 5, result.changes.opaqueDirectories.packedBytes)
            bind(statement, 6, String(decoding: json, as: UTF8.self))
            sqlite3_bind_int64(statement, 7, Int64(Date().timeIntervalSince1970))
            _ = sqlite3_step(statement) // a cache that cannot write only costs a rescan next time
        }
    }

    // MARK: SQLite helpers

    private func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(database, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw CacheError(message: "cache \(directory.path): \(text)")
        }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw CacheError(message: "cache \(directory.path): \(String(cString: sqlite3_errmsg(database)))")
        }
        return statement
    }

    private func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
        sqlite3_bind_text(statement, index, text, -1, residue_sqlite_transient())
    }

    private func bindBlob(_ statement: OpaquePointer, _ index: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), residue_sqlite_transient()) }
    }

    private static func blob(_ statement: OpaquePointer, _ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let blob = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: blob, count: count))
    }

}

/// The small part of a stored layer result (JSON): everything but the path lists.
struct StoredSummary: Codable {
    var hits: [StoredHit]
    var filesScanned: Int
    var bytesScanned: Int64
    var skipped: [Skipped]
    var compression: String
}

/// A hit without its secret.
struct StoredHit: Codable {
    var ruleId: String
    var path: String
    var containerPath: String
    var line: Int?
    var redacted: String
    var fingerprint: String
    var sealed: SealedSecret
    /// The confidence decided while the secret was in clear, and why it differs from the rule's.
    var confidence: Confidence?
    var confidenceNote: String?
}
