import Foundation
import ResidueArchive
import ResidueCache
import ResidueImage
import ResidueRules
@testable import ResidueScan
import XCTest

/// Which cached layers a warm scan reads again: only those holding a sealed hit that something
/// needs in clear (`ScanOptions.needsClearSecret`, `showSecrets`); everything else comes from the
/// cache, with the confidence decided while the secret was in clear.
final class CacheRescanTests: XCTestCase {
    /// Counts the layers walked (a walked layer is stored; a cached one is not).
    final class CountingStore: LayerResultStore, @unchecked Sendable {
        let inner: LayerResultStore
        private let lock = NSLock()
        private var walked: [String] = []
        init(_ inner: LayerResultStore) { self.inner = inner }
        func result(for digest: Digest) -> LayerResult? { inner.result(for: digest) }
        func store(_ result: LayerResult) {
            lock.withLock { walked.append(result.digest.description) }
            inner.store(result)
        }
        var sealer: SecretSealer? { inner.sealer }
        func take() -> [String] { lock.withLock { defer { walked = [] }; return walked.sorted() } }
    }

    /// The default rules and scan options whose layer cache is a fresh SQLite store in `folder`,
    /// seen through a CountingStore.
    func countingCache(in folder: TemporaryFolder) throws -> (RuleSet, ScanOptions, CountingStore) {
        let ruleSet = try RuleSet.defaults()
        var options = ScanOptions()
        let store = CountingStore(try SQLiteLayerStore(directory: URL(fileURLWithPath: folder.path), ruleSet: ruleSet, limits: options.limits))
        options.layerStore = store
        return (ruleSet, options, store)
    }

    func testOnlyLayersWithNeededSecretsAreReadAgain() throws {
        let folder = TemporaryFolder("residue-rescan")
        let (ruleSet, options, store) = try countingCache(in: folder)
        let path = CLI.packageRoot.appendingPathComponent("Fixtures/images/legacy.docker.tar").path
        let reference = try ImageReference.parse("docker-archive:" + path)
        func scan(_ change: (inout ScanOptions) -> Void = { _ in }) throws -> [String: Finding] {
            var copy = options
            change(&copy)
            let report = try Scanner(ruleSet: ruleSet, options: copy).scan(reference)
            return Dictionary(report.findings.map { ($0.ruleId, $0) }, uniquingKeysWith: { first, _ in first })
        }

        let cold = try scan()
        let walked = store.take()
        XCTAssertGreaterThanOrEqual(walked.count, 2, "every layer walked once")
        XCTAssertEqual(Set(walked).count, walked.count)
        let npmLayer = try XCTUnwrap(cold["npm-token"]?.location.layerDigest)
        let keyLayer = try XCTUnwrap(cold["private-key-openssh"]?.location.layerDigest)
        XCTAssertEqual(cold["npm-token"]?.clearSecret, "npm_Pv66LrdtfZDpTwGLEpOeKqNO782Oq60TsjEi")

        let warm = try scan()
        XCTAssertEqual(store.take(), [], "nothing walked")
        XCTAssertNil(warm["npm-token"]?.clearSecret, "a sealed secret is never passed on as a clear one")
        XCTAssertNil(warm["private-key-openssh"]?.clearSecret)
        XCTAssertNotNil(warm["github-pat"]?.clearSecret, "config findings are never cached")
        for (rule, finding) in cold {
            XCTAssertEqual(warm[rule]?.secret, finding.secret, rule)
            XCTAssertEqual(warm[rule]?.fingerprint, finding.fingerprint, rule)
            XCTAssertEqual(warm[rule]?.confidence, finding.confidence, rule)
            XCTAssertEqual(warm[rule]?.confidenceNote, finding.confidenceNote, rule)
        }

        let needed = try scan { $0.needsClearSecret = { $0 == "npm-token" } }
        XCTAssertEqual(store.take(), [npmLayer], "only the layer whose hit an allowlist needs in clear")
        XCTAssertEqual(needed["npm-token"]?.clearSecret, cold["npm-token"]?.clearSecret)
        XCTAssertNil(needed["private-key-openssh"]?.clearSecret)

        let shown = try scan { $0.showSecrets = true }
        XCTAssertEqual(store.take(), [keyLayer, npmLayer].sorted())
        XCTAssertEqual(shown["npm-token"]?.secret, "npm_Pv66LrdtfZDpTwGLEpOeKqNO782Oq60TsjEi")
    }

    /// A layer a limit stopped (here a decompression bomb) was never checked against its digest:
    /// it is not cached, so the next scan reads it again and reports the same; the rest is cached.
    func testALayerALimitCutShortIsNotCached() throws {
        let folder = TemporaryFolder("residue-rescan")
        let (ruleSet, options, store) = try countingCache(in: folder)
        let reference = try ImageReference.parse("oci:" + CLI.packageRoot.appendingPathComponent("Fixtures/broken/bomb-gzip").path)
        let first = try Scanner(ruleSet: ruleSet, options: options).scan(reference)
        let bomb = try XCTUnwrap(first.summary.skipped.first { $0.reason.contains("decompression bomb") }?.layerDigest)
        let walked = store.take()
        XCTAssertTrue(walked.contains(bomb))
        XCTAssertNil(store.inner.result(for: try XCTUnwrap(Digest(bomb))), "the cut layer is not in the cache")
        let second = try Scanner(ruleSet: ruleSet, options: options).scan(reference)
        XCTAssertEqual(store.take(), [bomb], "only the cut layer is read again")
        XCTAssertEqual(second.findings.map(\.fingerprint), first.findings.map(\.fingerprint))
        XCTAssertEqual(second.findings.map(\.ruleId), ["github-pat"])
        XCTAssertEqual(second.summary.skipped, first.summary.skipped)
    }
}
