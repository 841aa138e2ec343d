import Foundation

/// Which rank holds each embedding table in a hybrid-parallel DLRM run: tables taken largest first
/// (bytes, then lookups per example), each to the rank with the fewest bytes so far (ties: the fewest
/// lookups, then the lowest rank), the greedy balance DLRM's and TorchRec's simple planners start from.
public struct TablePlan: Sendable, Equatable {
    /// The rank of each table.
    public let owners: [Int]
    public let ranks: Int
    let bytes: [Double], lookups: [Double]

    /// `lookups`: ids per example of each table (default one, Criteo's single-valued features).
    public init(tableSizes: [Int], dimension: Int, lookups: [Double]? = nil, ranks: Int) {
        let bytes = tableSizes.map { Double($0 * dimension * MemoryLayout<Float>.stride) }
        let lookups = lookups ?? [Double](repeating: 1, count: tableSizes.count)
        var load = [(bytes: Double, lookups: Double)](repeating: (0, 0), count: max(ranks, 1)), owners = [Int](repeating: 0, count: bytes.count)
        for t in bytes.indices.sorted(by: { (bytes[$0], lookups[$0], -$0) > (bytes[$1], lookups[$1], -$1) }) {
            let r = load.indices.min { (load[$0].bytes, load[$0].lookups, $0) < (load[$1].bytes, load[$1].lookups, $1) }!
            owners[t] = r
            load[r] = (load[r].bytes + bytes[t], load[r].lookups + lookups[t])
        }
        (self.owners, self.ranks, self.bytes, self.lookups) = (owners, max(ranks, 1), bytes, lookups)
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
}
