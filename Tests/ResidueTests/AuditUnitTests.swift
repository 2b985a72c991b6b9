import Foundation
@testable import ResidueScan
import XCTest

final class AuditUnitTests: XCTestCase {
    func testShardsAreStableAndCoverEverything() {
        let names = (0..<200).map { "team/app-\($0)" }
        let shards = (0..<4).map { Shard(index: $0, count: 4) }
        for name in names { XCTAssertEqual(shards.filter { $0.owns(name) }.count, 1) }
        // FNV-1a is fixed: the split is the same on every machine and run.
        XCTAssertEqual(Shard.stableHash("team/app"), 0xdbc2354ad2931228)  // checked with an independent FNV-1a
        XCTAssertNil(Shard("4/4"))
        XCTAssertEqual(Shard("1/3"), Shard(index: 1, count: 3))
        XCTAssertTrue(shards.allSatisfy { shard in names.contains { shard.owns($0) } })
    }

    func testNaturalTagOrder() {
        XCTAssertEqual(["1.10", "1.9", "1.2.3", "latest", "1.02"].sorted(by: Auditor.naturalOrder), ["1.02", "1.2.3", "1.9", "1.10", "latest"])
    }
}
