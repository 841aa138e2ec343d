import Foundation

/// What `coppice mpi-check` runs on every rank: each collective Coppice uses against the result it must
/// give (values that depend on the rank, uneven all-to-all counts), then all-reduce timings.
public enum CollectiveCheck {
    /// The failed checks, the same list on every rank (each rank's own failures are summed).
    public static func run(_ world: Communicator) throws(DistributedError) -> [String] {
        let (r, n) = (world.rank, world.size)
        var failures: [String] = []
        func expect(_ ok: Bool, _ what: String) { if !ok { failures.append("rank \(r): \(what)") } }
        // Sum, mean and max of values that differ by rank: Σ_r (r + 1)(i + 1) = (i + 1) n(n + 1)/2.
        let count = 1000
        var sum = (0..<count).map { Float((r + 1) * ($0 + 1)) }, mean = sum, maximum = sum
        try world.allReduce(&sum)
        try world.allReduce(&mean, .mean)
        try world.allReduce(&maximum, .max)
        let triangle = Float(n * (n + 1) / 2)
        expect(sum.indices.allSatisfy { sum[$0] == Float($0 + 1) * triangle }, "all-reduce sum")
        expect(mean.indices.allSatisfy { abs(mean[$0] - Float($0 + 1) * triangle / Float(n)) <= 1e-4 * mean[$0] }, "all-reduce mean")
        expect(maximum.indices.allSatisfy { maximum[$0] == Float(n * ($0 + 1)) }, "all-reduce max")
        var doubles = [Double(r), 1]
        try world.allReduce(&doubles)
        expect(doubles == [Double(n * (n - 1) / 2), Double(n)], "all-reduce of doubles")
        let gathered = try world.allGather([Float(r), Float(r * 10)])
        expect(gathered == (0..<n).flatMap { [Float($0), Float($0 * 10)] }, "all-gather")
        // Rank s sends rank d a chunk of (s + d) % 3 values, each 100 s + d: empty chunks included.
        let received = try world.allToAll((0..<n).map { d in [Float](repeating: Float(100 * r + d), count: (r + d) % 3) })
        expect(received == (0..<n).map { s in [Float](repeating: Float(100 * s + r), count: (s + r) % 3) }, "all-to-all")
        var broadcast = r == n - 1 ? [1.5, 2.5, Float(n)] : [0, 0, 0]
        try world.broadcast(&broadcast, root: n - 1)
        expect(broadcast == [1.5, 2.5, Float(n)], "broadcast from rank \(n - 1)")
        var bytes: [UInt8] = r == 0 ? Array("plan".utf8) : [0, 0, 0, 0]
        try world.broadcast(bytes: &bytes)
        expect(bytes == Array("plan".utf8), "broadcast of bytes")
        try world.barrier()
        // Every rank reports every rank's failures: counts first, then the texts through rank 0's view.
        var failed = [Double(failures.count)]
        try world.allReduce(&failed)
        if failed[0] > 0 && failures.isEmpty { failures.append("\(Int(failed[0])) check(s) failed on other ranks") }
        return failures
    }

    /// Seconds per all-reduce of `count` floats (the slowest rank's median of `rounds`).
    public static func allReduceSeconds(_ world: Communicator, count: Int, rounds: Int) throws(DistributedError) -> Double {
        var buffer = [Float](repeating: 1, count: count), times: [Double] = []
        try world.allReduce(&buffer)  // warm-up: connections and buffers
        for _ in 0..<max(rounds, 1) {
            try world.barrier()
            let start = Date()
            try world.allReduce(&buffer)
            times.append(Date().timeIntervalSince(start))
        }
        var median = [times.sorted()[times.count / 2]]
        try world.allReduce(&median, .max)
        return median[0]
    }
}
