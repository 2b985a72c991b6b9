import Foundation

/// What a scan reports while it works, for a progress line on a terminal. Called from the
/// scanning threads: handlers must be thread-safe.
public enum ScanProgress: Sendable {
    /// The image is resolved: this many images (platforms) and unique layers to read.
    case started(images: Int, layers: Int)
    /// One layer is done (`cached`: its result was known and it was not read again).
    case layerFinished(bytes: Int64, files: Int, cached: Bool)
}

public typealias ScanProgressHandler = @Sendable (ScanProgress) -> Void

/// A one-line progress display on stderr (`\r`-rewritten, at most ten times a second), cleared
/// when the scan ends so the report starts on a clean line. Only for terminals: the CLI makes
/// one when stderr is a TTY and `--quiet` is not given.
public final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let write: @Sendable (String) -> Void
    private var images = 0, layers = 0, layersDone = 0, files = 0
    private var bytes: Int64 = 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    public init(label: String, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.write = write
    }

    public var handler: ScanProgressHandler { { [self] event in self.handle(event) } }

    func handle(_ event: ScanProgress) {
        lock.withLock {
            switch event {
            case let .started(images, layers):
                // A streamed source (the daemon) reports its layers before the scan knows the
                // images: keep what was already counted.
                self.images = images
                self.layers = max(layers, layersDone)
            case let .layerFinished(bytes, files, _):
                layersDone += 1
                self.bytes += bytes
                self.files += files
            }
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.1 || layersDone == layers else { return }
            lastDraw = now
            drawn = true
            write("\r\u{1B}[K" + Self.text(label: label, images: images, layersDone: layersDone, layers: layers, files: files, bytes: bytes))
        }
    }

    static func text(label: String, images: Int, layersDone: Int, layers: Int, files: Int, bytes: Int64) -> String {
        // Before the image is resolved (a streamed source) the totals are not known yet.
        let imageText = images == 0 ? "" : images == 1 ? "1 image, " : "\(images) images, "
        let layerText = layers == 0 ? "layers \(layersDone)" : "layers \(layersDone)/\(layers)"
        return "residue: \(label) — \(imageText)\(layerText), \(files) files, \(formatBytes(bytes))"
    }

    /// Erases the line (call before printing anything else to the terminal).
    public func finish() {
        lock.withLock {
            if drawn { write("\r\u{1B}[K") }
            drawn = false
        }
    }

    public static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
