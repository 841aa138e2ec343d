import CoppiceNN
import CoppiceTensor

/// Data parallelism: the same model on every rank, each rank a contiguous shard of every global batch,
/// gradients summed over the ranks (each weighted by its shard's share of the batch) so that every
/// replica takes the step one process would take on the whole batch.
public struct DataParallel: Sendable {
    public let communicator: Communicator
    /// Floats per all-reduce: gradients go in buckets of about 16 MB, so no copy of the whole model's.
    public var bucketSize = 1 << 22

    public init(_ communicator: Communicator) { self.communicator = communicator }

    /// This rank's rows of a global batch of `count`: contiguous, shard sizes differing by at most one.
    public func shard(of count: Int) -> Range<Int> { shard(of: count, rank: communicator.rank) }

    /// Rank `r`'s rows of a global batch of `count`.
    public func shard(of count: Int, rank r: Int) -> Range<Int> {
        let n = communicator.size
        return (r * count / n)..<((r + 1) * count / n)
    }

    /// Every rank's `values` for its shard of `count` rows (`shard(of:)`, `width` values a row),
    /// concatenated in rank order: the whole batch's, on every rank.
    public func gatherShards(_ values: [Float], of count: Int, width: Int = 1) throws(DistributedError) -> [Float] {
        let n = communicator.size, mine = shard(of: count).count
        guard values.count == mine * width else { throw .invalidArgument("\(values.count) values for a shard of \(mine) rows of \(width)") }
        guard n > 1 else { return values }
        // Shards differ by at most one row: each is padded to the longest, then the padding dropped.
        let longest = (count + n - 1) / n
        let gathered = try communicator.allGather(values + [Float](repeating: 0, count: (longest - mine) * width))
        return (0..<n).flatMap { r in gathered[(r * longest * width)..<((r * longest + shard(of: count, rank: r).count) * width)] }
    }

    /// Rank 0's values in every parameter and buffer of `module`, so the replicas start identical.
    public func broadcastParameters(_ module: Module) throws(DistributedError) {
        for (_, parameter) in module.namedParameters(includingBuffers: true) {
            var values = parameter.value.scalars
            try communicator.broadcast(&values)
            parameter.update { v in for i in v.indices { v[i] = values[i] } }
        }
    }

    /// Each parameter's gradient times `weight` (this rank's share of the global batch), summed over the
    /// ranks and put back; a parameter without a gradient on this rank counts as zeros. `extras`
    /// (running loss sums, counts) ride along in the last bucket and come back summed.
    public func reduceGradients(_ parameters: [Parameter], weight: Float, extras: [Float] = []) throws(DistributedError) -> [Float] {
        var bucket: [Float] = [], members: [Parameter] = []
        bucket.reserveCapacity(min(bucketSize, parameters.reduce(0) { $0 + $1.value.count }) + extras.count)
        func flush(_ tail: [Float]) throws(DistributedError) -> [Float] {
            bucket += tail
            try communicator.allReduce(&bucket)
            var offset = 0
            for p in members {
                p.setGrad(Tensor(Array(bucket[offset..<(offset + p.value.count)])).reshaped(p.shape))
                offset += p.value.count
            }
            let returned = Array(bucket[offset...])
            (bucket, members) = ([], [])
            return returned
        }
        for p in parameters {
            if let grad = p.grad?.scalars { bucket += grad.map { $0 * weight } } else { bucket += [Float](repeating: 0, count: p.value.count) }
            members.append(p)
            if bucket.count >= bucketSize { _ = try flush([]) }
        }
        return try flush(extras)
    }

    /// Buffers (batch-norm running statistics, computed from each rank's shard) averaged over the
    /// ranks, so the replicas stay identical.
    public func averageBuffers(_ module: Module) throws(DistributedError) {
        let trainable = Set(module.parameters().map(ObjectIdentifier.init))
        for (_, buffer) in module.namedParameters(includingBuffers: true) where !trainable.contains(ObjectIdentifier(buffer)) {
            var values = buffer.value.scalars
            try communicator.allReduce(&values, .mean)
            buffer.update { v in for i in v.indices { v[i] = values[i] } }
        }
    }

    /// Checks that every rank holds the same values and masks (a checksum of each, gathered), so a
    /// replica that drifted stops the run with the first tensor that differs instead of going on.
    public func checkReplicasAgree(_ module: Module) throws(DistributedError) {
        let named = module.namedParameters(includingBuffers: true)
        var sums: [Float] = []
        for (_, p) in named {
            // Two weightings, so that values moved between positions also change the checksum.
            var (plain, weighted) = (0.0, 0.0)
            for (i, v) in p.value.scalars.enumerated() { (plain, weighted) = (plain + Double(v), weighted + Double(v) * Double(i % 97 + 1)) }
            let zeros = p.mask.map { Double($0.scalars.filter { $0 == 0 }.count) } ?? -1
            sums += [Float(plain), Float(weighted), Float(zeros)]
        }
        let all = try communicator.allGather(sums)
        for r in 1..<communicator.size {
            if let i = sums.indices.first(where: { all[$0] != all[r * sums.count + $0] }) {
                throw .invalidArgument("replicas differ: rank \(r)'s \(named[i / 3].name) is not rank 0's (\(["values", "values", "mask"][i % 3]))")
            }
        }
    }
}
