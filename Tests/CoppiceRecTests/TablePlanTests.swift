import CoppiceRec
import Testing

/// The hybrid-parallel placement of embedding tables on ranks.
@Suite struct TablePlanTests {

    /// Every table on exactly one rank; no rank holds more bytes than the largest table or its even
    /// share, nor more tables than its even share rounded up plus one (lookups count as much as bytes).
    @Test(arguments: [1, 2, 3, 8]) func everyTableOnceBytesAndLookupsBalanced(ranks: Int) {
        let plan = TablePlan(tableSizes: TablePlan.criteoKaggle, dimension: 16, ranks: ranks)
        let held = (0..<ranks).flatMap { plan.tables(of: $0) }.sorted()
        #expect(held == Array(TablePlan.criteoKaggle.indices) && plan.owners.allSatisfy { (0..<ranks).contains($0) })
        let total = TablePlan.criteoKaggle.reduce(0, +), largest = TablePlan.criteoKaggle.max()!
        for r in 0..<ranks {
            let mine = plan.tables(of: r), rows = mine.reduce(0) { $0 + TablePlan.criteoKaggle[$1] }
            #expect(rows <= max(largest, (total + ranks - 1) / ranks) + largest / 2, "rank \(r): \(rows) rows")
            #expect(mine.count <= (TablePlan.criteoKaggle.count + ranks - 1) / ranks + 1, "rank \(r): \(mine.count) tables")
        }
        #expect(plan.summary.split(separator: "\n").count == ranks)
    }

    /// The traffic model: one rank moves nothing; on 8 ranks the busiest sender's all-to-all is
    /// its tables' rows for the other ranks' examples, forward and backward.
    @Test func trafficFollowsThePlacement() {
        let single = TablePlan(tableSizes: TablePlan.criteoKaggle, dimension: 16, ranks: 1).traffic(batch: 2048, dimension: 16, mlpParameters: 1000)
        #expect(single.allToAllSent == 0 && single.allToAllReceived == 0 && single.allReduceSent == 0)
        let plan = TablePlan(tableSizes: TablePlan.criteoKaggle, dimension: 16, ranks: 8)
        let t = plan.traffic(batch: 8 * 2048, dimension: 16, mlpParameters: 1000)
        let busiest = (0..<8).map { plan.tables(of: $0).count }.max()!
        #expect(t.allToAllSent == 2 * Double(busiest * 7 * 2048 * 16 * 4))
        #expect(t.allReduceSent == 2 * 7.0 / 8 * 4000 && t.seconds(linkGBs: 25) > 0)
    }

    /// Equal tables go round the ranks, so lookups spread too.
    @Test func equalTablesGoRoundTheRanks() {
        let plan = TablePlan(tableSizes: [100, 100, 100, 100, 100, 100], dimension: 8, ranks: 3)
        #expect((0..<3).allSatisfy { plan.tables(of: $0).count == 2 })
    }
}
