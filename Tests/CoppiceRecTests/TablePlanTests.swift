import CoppiceRec
import Testing

/// The hybrid-parallel placement of embedding tables on ranks.
@Suite struct TablePlanTests {
    /// Criteo Kaggle's 26 table sizes as the DLRM reference counts them (no --max-ind-range).
    static let criteoKaggle = [
        1460, 583, 10_131_227, 2_202_608, 305, 24, 12517, 633, 3, 93145, 5683, 8_351_593, 3194, 27, 14992, 5_461_306, 10, 5652, 2173, 4,
        7_046_547, 18, 15, 286_181, 105, 142_572,
    ]

    /// Every table on exactly one rank; no rank's bytes exceed the lightest rank's by more than the
    /// largest table (the greedy bound), and one rank holds everything.
    @Test(arguments: [1, 2, 3, 8]) func everyTableOnceAndTheBytesBalanced(ranks: Int) {
        let plan = TablePlan(tableSizes: Self.criteoKaggle, dimension: 16, ranks: ranks)
        let held = (0..<ranks).flatMap { plan.tables(of: $0) }.sorted()
        #expect(held == Array(Self.criteoKaggle.indices) && plan.owners.allSatisfy { (0..<ranks).contains($0) })
        let loads = (0..<ranks).map { r in plan.tables(of: r).reduce(0) { $0 + Self.criteoKaggle[$1] } }
        #expect(loads.max()! - loads.min()! <= Self.criteoKaggle.max()!, "\(loads)")
        #expect(plan.summary.split(separator: "\n").count == ranks)
    }

    /// Equal tables go round the ranks, so lookups spread too.
    @Test func equalTablesGoRoundTheRanks() {
        let plan = TablePlan(tableSizes: [100, 100, 100, 100, 100, 100], dimension: 8, ranks: 3)
        #expect((0..<3).allSatisfy { plan.tables(of: $0).count == 2 })
    }
}
