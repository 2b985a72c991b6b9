import Foundation
import ResidueArchive
import ResidueImage

/// Images whose layers were already read (a stream that passed, an audit that walked them):
/// `resolve` hands back what is known.
public struct ResolvedImagesSource: ImageSource {
    let images: [ResolvedImage]
    public init(_ images: [ResolvedImage]) { self.images = images }
    public func resolve(platform: Platform?) throws -> [ResolvedImage] { images }
}

/// A layer store that answers from results computed on the way, then from another store.
final class PrefilledLayerStore: LayerResultStore, @unchecked Sendable {
    let known: [Digest: LayerResult]
    let fallback: LayerResultStore?
    init(_ known: [Digest: LayerResult], fallback: LayerResultStore?) {
        self.known = known
        self.fallback = fallback
    }
    func result(for digest: Digest) -> LayerResult? { known[digest] ?? fallback?.result(for: digest) }
    func store(_ result: LayerResult) { fallback?.store(result) }
    var sealer: SecretSealer? { fallback?.sealer }
}

/// Moves a byte source into a `@Sendable` opener: it is opened once, on the thread that made it.
private final class SourceBox: @unchecked Sendable {
    let source: ByteSource
    init(_ source: ByteSource) { self.source = source }
}

extension LayerResult {
    /// The same result under the digest learned once the layer's bytes were all hashed.
    func keyed(by digest: Digest) -> LayerResult {
        var copy = self
        copy.digest = digest
        return copy
    }
}

extension Scanner {
    /// A one-pass source (`docker-daemon:`): each layer is walked as it streams by (one at a
    /// time: a stream has one reader), then the scan goes on as for any source, every layer
    /// answered from what the stream gave.
    func scanStreamed(_ reference: ImageReference, _ source: StreamingImageSource) throws -> ScanReport {
        let walker = LayerWalker(ruleSet: ruleSet, limits: options.limits)
        let progress = options.progress
        var count = 0
        let (images, layers) = try source.stream(platform: options.platform) { stream, what -> LayerResult in
            count += 1
            let box = SourceBox(stream)
            let placeholder = Digest.sha256(of: what)
            let blob = LayerBlob(index: count - 1, digest: placeholder, diffID: nil, mediaType: nil, size: nil) { box.source }
            let result = try walker.walk(blob)
            progress?(.layerFinished(bytes: result.bytesScanned, files: result.filesScanned, cached: false))
            return result
        }
        var known: [Digest: LayerResult] = [:]
        for (digest, result) in layers {
            known[digest] = result.keyed(by: digest)
            // Kept for later scans that reach the same layers another way (an archive, a registry).
            self.options.layerStore?.store(known[digest]!)
        }
        var options = self.options
        options.layerStore = PrefilledLayerStore(known, fallback: self.options.layerStore)
        options.progress = nil // every layer was reported as it streamed
        return try Scanner(ruleSet: ruleSet, options: options).scan(reference, source: ResolvedImagesSource(images))
    }
}
