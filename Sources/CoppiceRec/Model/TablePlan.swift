import Foundation

/// Which rank holds each embedding table in a hybrid-parallel DLRM run. Tables go largest first, each
/// to the rank whose load would then be lowest, the load being the larger of its shares of all table
/// bytes (memory) and of all lookups (each lookup's pooled row is sent through the all-to-all, so
/// lookups, not bytes, set a rank's traffic); ties go to the fewest bytes, then the lowest rank.
/// Balancing bytes alone piled the small tables onto a few ranks: 3.8× the busiest rank's all-to-all
/// on Criteo Kaggle's tables over 8 ranks (`coppice plan-tables`).
public struct TablePlan: Sendable, Equatable {
    /// Criteo Kaggle's 26 table sizes as the DLRM reference counts them (no --max-ind-range).
    public static let criteoKaggle = [
        1460, 583, 10_131_227, 2_202_608, 305, 24, 12517, 633, 3, 93145, 5683, 8_351_593, 3194, 27, 14992, 5_461_306, 10, 5652, 2173, 4,
        7_046_547, 18, 15, 286_181, 105, 142_572,
    ]

    /// The rank of each table.
    public let owners: [Int]
    public let ranks: Int
    let bytes: [Double], lookups: [Double]

    /// `lookups`: ids per example of each table (default one, Criteo's single-valued features).
    public init(tableSizes: [Int], dimension: Int, lookups: [Double]? = nil, ranks: Int) {
        let bytes = tableSizes.map { Double($0 * dimension * MemoryLayout<Float>.stride) }
        let lookups = lookups ?? [Double](repeating: 1, count: tableSizes.count)
        let n = max(ranks, 1)
        let (bytesPerRank, lookupsPerRank) = (max(bytes.reduce(0, +) / Double(n), 1), max(lookups.reduce(0, +) / Double(n), 1e-9))
        var load = [(bytes: Double, lookups: Double)](repeating: (0, 0), count: n), owners = [Int](repeating: 0, count: bytes.count)
        for t in bytes.indices.sorted(by: { (bytes[$0], lookups[$0], -$0) > (bytes[$1], lookups[$1], -$1) }) {
            func after(_ r: Int) -> (Double, Double, Int) {
                let (b, l) = (load[r].bytes + bytes[t], load[r].lookups + lookups[t])
                return (max(b / bytesPerRank, l / lookupsPerRank), b, r)
            }
            let r = load.indices.min { after($0) < after($1) }!
            owners[t] = r
            load[r] = (load[r].bytes + bytes[t], load[r].lookups + lookups[t])
        }
        (self.owners, self.ranks, self.bytes, self.lookups) = (owners, n, bytes, lookups)
    }

    /// The tables rank `rank` holds, in table order.
    public func tables(of rank: Int) -> [Int] { owners.indices.filter { owners[$0] == rank } }

    /// One line per rank: its tables, their bytes and lookups per example.
    public var summary: String {
        (0..<ranks).map { r in
            let mine = tables(of: r)
            let megabytes = mine.reduce(0) { $0 + bytes[$1] } / 1e6, perExample = mine.reduce(0) { $0 + lookups[$1] }
            return String(
                format: "rank %d: %d tables (%@), %.1f MB, %.0f lookups/example", r, mine.count, mine.map(String.init).joined(separator: ","),
                megabytes, perExample)
        }.joined(separator: "\n")
    }

    /// Bytes one rank sends in a step, at its busiest: the lookups' all-to-all (forward, and the same
    /// again for the gradients in backward) and the MLP gradients' ring all-reduce (2(n−1)/n of them).
    public struct Traffic: Sendable, Equatable {
        /// The largest tables' share on one rank, in bytes.
        public var tableBytes: Double
        /// All-to-all bytes sent by the rank that sends the most, forward + backward.
        public var allToAllSent: Double
        /// All-to-all bytes received by the rank that receives the most, forward + backward.
        public var allToAllReceived: Double
        public var allReduceSent: Double
        /// Seconds for these at `linkGBs` per direction (bandwidth only: no latency, no overlap).
        public func seconds(linkGBs: Double) -> Double { (max(allToAllSent, allToAllReceived) + allReduceSent) / (linkGBs * 1e9) }
    }

    /// The traffic of one step of a global batch of `batch` examples (rank r computes its shard, as
    /// `DataParallel.shard`), with `mlpParameters` data-parallel MLP parameters.
    public func traffic(batch: Int, dimension: Int, mlpParameters: Int) -> Traffic {
        let n = ranks, row = Double(dimension * MemoryLayout<Float>.stride)
        let shard = { (r: Int) in Double((r + 1) * batch / n - r * batch / n) }
        var sent = 0.0, received = 0.0, heaviest = 0.0
        for r in 0..<n {
            let mine = tables(of: r)
            // Its tables' rows for every other rank's examples; every other table's rows for its own.
            sent = max(sent, Double(mine.count) * (Double(batch) - shard(r)) * row)
            received = max(received, Double(owners.count - mine.count) * shard(r) * row)
            heaviest = max(heaviest, mine.reduce(0) { $0 + bytes[$1] })
        }
        let allReduce = n > 1 ? 2 * Double(n - 1) / Double(n) * Double(mlpParameters * MemoryLayout<Float>.stride) : 0
        return Traffic(tableBytes: heaviest, allToAllSent: 2 * sent, allToAllReceived: 2 * received, allReduceSent: allReduce)
    }
}
