import CoppiceDistributed
import CoppiceNN
import CoppiceTensor
import Foundation

/// DLRM spread over the ranks of an MPI run as the DLRM reference and TorchRec spread it: each
/// embedding table lives on one rank (`TablePlan`), which looks it up for the whole global batch and
/// sends every rank the pooled rows of its examples (all-to-all; the gradients go back the same way
/// in backward), while the bottom and top MLPs are data-parallel on each rank's shard of the batch.
/// Every rank's model keeps every table, but only the owner's copy is looked up and trained between
/// `synchronizeTables()` calls.
public struct HybridDLRM {
    public let model: DLRM
    public let plan: TablePlan
    public let communicator: Communicator

    public init(model: DLRM, communicator: Communicator) {
        let c = model.configuration
        self.model = model
        self.communicator = communicator
        plan = TablePlan(tableSizes: c.tableSizes, dimension: c.embeddingDimension, ranks: communicator.size)
    }

    /// One training step's gradients on this rank: the BCE of its rows of `batch` (`labels` for the whole
    /// batch) weighted by its share of the batch, the tables' gradients sent back to their owners, the
    /// MLPs' summed over the ranks: one process's gradients, spread. A rank without rows (a batch
    /// smaller than the ranks) still takes part in every exchange. Returns the whole batch's mean loss.
    @discardableResult
    public func backward(_ batch: DLRMBatch, labels: [Float], rows: @escaping (Int) -> Range<Int>) throws -> Float {
        let mine = rows(communicator.rank), share = Float(mine.count) / Float(labels.count)
        let (logits, exchanged) = try forward(batch, rows: rows)
        var loss: Float = 0
        if let logits {
            let targets = Tensor(Array(labels[mine])).reshaped([mine.count, 1])
            let mean = try Loss.binaryCrossEntropyWithLogits(logits, targets: targets)
            loss = mean.scalars[0] * share
            mean.backward(seed: Tensor(repeating: share, shape: mean.shape))
        } else {
            exchanged.backward(seed: Tensor.zeros(exchanged.shape))
        }
        let parameters = model.bottom.parameters() + model.top.parameters()
        return try DataParallel(communicator).reduceGradients(parameters, weight: 1, extras: [loss])[0]
    }

    /// Probabilities for a whole batch on every rank: each rank scores its shard with the whole model
    /// (after `synchronizeTables`), and the shards are gathered.
    public func predict(_ batch: [CTRExample]) throws -> [Float] {
        let parallel = DataParallel(communicator), mine = parallel.shard(of: batch.count)
        let predictions = mine.isEmpty ? [] : try OnlineTraining.predict(model, Array(batch[mine]))
        return try parallel.gatherShards(predictions, of: batch.count)
    }

    /// The exchange, then (where this rank has rows) bottom MLP, interaction and top MLP on its rows;
    /// `rows(r)` are the rows of `batch` rank r computes.
    func forward(_ batch: DLRMBatch, rows: @escaping (Int) -> Range<Int>) throws -> (logits: Tensor?, exchanged: Tensor) {
        let me = communicator.rank, mine = rows(me), tables = model.embeddings.count
        guard batch.indices.count == tables, batch.offsets.count == tables else {
            throw DLRMError.invalidBatch("\(tables) tables need as many index and offset lists, got \(batch.indices.count)")
        }
        var pooled: [Tensor] = []
        for t in plan.tables(of: me) {
            do { pooled.append(try model.embeddings[t](batch.indices[t], offsets: batch.offsets[t])) } catch {
                throw DLRMError.invalidBatch("\(error)")
            }
        }
        let exchanged = try exchange(pooled, rows: rows)
        guard !mine.isEmpty else { return (nil, exchanged) }
        let x = model.bottom(batch.dense.sliced(axis: 0, mine))
        return (model.top(concatenate([x, dotInteraction(x, embedded: exchanged, tables: tables)], alongAxis: 1)), exchanged)
    }

    /// Every table's rows for this rank's examples, [rows(me), tables × d], from the owners' pooled
    /// lookups [B, d]. Backward sends each owner its tables' gradient rows and returns theirs; a leaf
    /// of its own keeps the exchange on the tape of every rank, so that its collective runs on all of
    /// them in backward even where this rank holds no table.
    func exchange(_ pooled: [Tensor], rows: @escaping (Int) -> Range<Int>) throws -> Tensor {
        let (plan, communicator) = (self.plan, self.communicator), batch = pooled.first?.shape[0] ?? 0
        let n = communicator.size, me = communicator.rank, d = model.configuration.embeddingDimension
        let tables = model.embeddings.count, owned = plan.tables(of: me), m = rows(me).count
        let values = pooled.map { $0.contiguous().scalars }
        let sent = (0..<n).map { r in
            var chunk: [Float] = []
            chunk.reserveCapacity(values.count * rows(r).count * d)
            for v in values { chunk.append(contentsOf: v[(rows(r).lowerBound * d)..<(rows(r).upperBound * d)]) }
            return chunk
        }
        let received = try communicator.allToAll(sent)
        var out = [Float](repeating: 0, count: m * tables * d)
        out.withUnsafeMutableBufferPointer { o in
            for s in 0..<n {
                received[s].withUnsafeBufferPointer { from in
                    for (k, t) in plan.tables(of: s).enumerated() {
                        for row in 0..<m { (o.baseAddress! + (row * tables + t) * d).update(from: from.baseAddress! + (k * m + row) * d, count: d) }
                    }
                }
            }
        }
        let anchor = GradMode.isEnabled ? Tensor.zeros([1]).requiringGrad() : Tensor.zeros([1])
        return Tensor.differentiable(Tensor(out).reshaped([m, tables * d]), inputs: [anchor] + pooled) { g in
            let gradient = g.contiguous().scalars
            let back = (0..<n).map { s in
                let theirs = plan.tables(of: s)
                var chunk = [Float](repeating: 0, count: theirs.count * m * d)
                chunk.withUnsafeMutableBufferPointer { c in
                    gradient.withUnsafeBufferPointer { g in
                        for (k, t) in theirs.enumerated() {
                            for row in 0..<m { (c.baseAddress! + (k * m + row) * d).update(from: g.baseAddress! + (row * tables + t) * d, count: d) }
                        }
                    }
                }
                return chunk
            }
            let returned: [[Float]]
            do { returned = try communicator.allToAll(back) } catch {
                // A pullback cannot throw: this rank stops, and its exit ends the others (MPI_Abort).
                FileHandle.standardError.write(Data("coppice: \(error)\n".utf8))
                Communicator.markFailed()
                exit(1)
            }
            // Rank r's rows of each owned table's gradient are contiguous in what it returned.
            var grads = owned.map { _ in [Float](repeating: 0, count: batch * d) }
            for r in 0..<n {
                let span = rows(r), width = span.count * d
                for k in owned.indices {
                    grads[k].withUnsafeMutableBufferPointer { into in
                        returned[r].withUnsafeBufferPointer { from in
                            let (target, source) = (into.baseAddress! + span.lowerBound * d, from.baseAddress! + k * width)
                            for i in 0..<width { target[i] += source[i] }
                        }
                    }
                }
            }
            return [nil] + grads.map { Tensor($0).reshaped([batch, d]) }
        }
    }

    /// Each table's values from its owner on every rank (before checkpoints, evaluation elsewhere, or
    /// the end of the run); with `rows`, only those rows of each table (the ones a chunk's training
    /// looked up, the only ones its sparse SGD updates changed).
    public func synchronizeTables(rows: [[Int]]? = nil) throws(DistributedError) {
        let d = model.configuration.embeddingDimension
        for (t, table) in model.embeddings.enumerated() {
            guard let touched = rows?[t] else {
                var values = table.weight.value.scalars
                try communicator.broadcast(&values, root: plan.owners[t])
                table.weight.update { v in for i in v.indices { v[i] = values[i] } }
                continue
            }
            let all = table.weight.value.scalars
            var values = [Float](repeating: 0, count: touched.count * d)
            for (k, row) in touched.enumerated() { for j in 0..<d { values[k * d + j] = all[row * d + j] } }
            try communicator.broadcast(&values, root: plan.owners[t])
            table.weight.update { v in for (k, row) in touched.enumerated() { for j in 0..<d { v[row * d + j] = values[k * d + j] } } }
        }
    }

    /// The distinct rows of each table that `examples` look up, ascending.
    public static func rowsLookedUp(_ examples: [CTRExample], tables: Int) -> [[Int]] {
        (0..<tables).map { t in Array(Set(examples.flatMap { $0.sparse[t] })).sorted() }
    }
}
