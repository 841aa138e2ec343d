import CoppiceData
import CoppiceDistributed
import CoppiceNN
import CoppiceOptimizers
import CoppiceRuns
import CoppiceTensor
import Foundation

/// Trains a DLRM on a chronological CTR dataset: the first `trainFraction` of the examples in time
/// order train (in order, one pass per epoch, as `--data-randomize none`), the rest is the test
/// set; or on the chunks of a stream (the Criteo days). SGD with row-sparse embedding updates, BCE loss; reports the test metrics (NE against the
/// training CTR).
public struct DLRMTraining {
    public var configuration: DLRMConfiguration
    public var batchSize = 128
    public var learningRate: Float = 0.1
    /// The reference's polynomial decay (`--lr-decay-start-step`, `--lr-num-decay-steps`): from this
    /// step the rate falls as ((decaySteps − k) / decaySteps)² over k = 0..<decaySteps, then stays 0.
    /// nil: constant.
    public var decayStartStep: Int?
    public var decaySteps = 0
    public var epochs = 1
    public var trainFraction = 0.9
    public var seed: UInt64 = 0
    /// Alternate growth and pruning: the training steps are split into equal phases, each pruning this
    /// fraction of every hidden MLP layer (0: dense). Empty: dense throughout. AMGP ends dense (last 0);
    /// a schedule ending sparse (e.g. [0.5]) is the prune-only baseline, evaluated pruned.
    public var phases: [Double] = []
    /// Relative lengths of the phases (empty: equal), e.g. the paper-style 10% warm-up, then 20%
    /// sparse / 10% dense three times.
    public var phaseLengths: [Double] = []
    public var regrowth: AlternateGrowthPruning.Regrowth = .restore
    /// Where and how often the training writes a checkpoint, and whether it resumes from one.
    public var checkpointing: DLRMCheckpointing?
    /// With several ranks: hybrid-parallel (`HybridDLRM`: tables placed on ranks, MLPs data-parallel);
    /// every rank ends with the whole model, rank 0 writes the checkpoints.
    public var communicator: Communicator?
    /// Hears every training step (on every rank, with the whole batch's loss); throwing stops the run.
    public var onStep: (Step) throws -> Void = { _ in }

    public init(configuration: DLRMConfiguration) { self.configuration = configuration }

    /// One training step: its number (from 1), epoch (from 1), AMGP phase, learning rate and the
    /// batch's mean loss before the update.
    public struct Step: Sendable {
        public var step: Int
        public var epoch: Int
        public var phase: Int
        public var learningRate: Float
        public var loss: Float
    }

    public struct Result: Sendable {
        public var test: BinaryMetrics.Summary
        public var trainExamples: Int
        public var seconds: Double
        public var stepsPerSecond: Double
        /// Multiply-adds of training, counted per step at the widths of that step (3 × forward).
        public var trainingMultiplyAdds: Double
    }

    /// The DLRM input of `examples`: dense [B, D] and per table the flattened ids with bag offsets
    /// (with `only`, those tables' alone, the others left empty: what a hybrid-parallel rank looks up).
    public static func batch(_ examples: ArraySlice<CTRExample>, only: Set<Int>? = nil) -> DLRMBatch {
        let tables = examples.first?.sparse.count ?? 0
        let denseCount = examples.first?.dense.count ?? 0
        var indices = [[Int]](), offsets = [[Int]]()
        for t in 0..<tables {
            var tableIndices = [Int](), tableOffsets = [Int]()
            guard only?.contains(t) ?? true else {
                (indices, offsets) = (indices + [[]], offsets + [[]])
                continue
            }
            tableIndices.reserveCapacity(examples.count)
            tableOffsets.reserveCapacity(examples.count)
            for example in examples {
                tableOffsets.append(tableIndices.count)
                tableIndices.append(contentsOf: example.sparse[t])
            }
            indices.append(tableIndices)
            offsets.append(tableOffsets)
        }
        var values = [Float]()
        values.reserveCapacity(examples.count * denseCount)
        for example in examples { values.append(contentsOf: example.dense) }
        let dense = Tensor(values).reshaped([examples.count, denseCount])
        return DLRMBatch(dense: dense, indices: indices, offsets: offsets)
    }

    /// Trains on the first `trainFraction` of `data` in time order and tests on the rest.
    public func run(_ data: CTRDataset, progress: (String) -> Void = { _ in }) throws -> (model: DLRM, result: Result) {
        guard trainFraction > 0 && trainFraction < 1 else { throw DLRMError.invalidConfiguration("the train fraction must be in (0, 1)") }
        let split = Int(Double(data.examples.count) * trainFraction)
        func part(_ examples: ArraySlice<CTRExample>) throws -> InMemoryCTRStream {
            try InMemoryCTRStream(
                CTRDataset(
                    denseNames: data.denseNames, sparseNames: data.sparseNames, tableSizes: data.tableSizes,
                    examples: Array(examples)), chunking: .examples(65_536))
        }
        let train = try part(data.examples[..<split]), test = try part(data.examples[split...])
        return try run(train: train, chunks: 0..<train.boundaries.count, test: test, chunks: 0..<test.boundaries.count, progress: progress)
    }

    /// Trains on chunks `trainChunks` of `train` (one chunk in memory at a time, so a Criteo file
    /// larger than memory streams through) and tests on chunks `testChunks` of `test`.
    public func run(
        train: CTRStream, chunks trainChunks: Range<Int>, test: CTRStream, chunks testChunks: Range<Int>,
        progress: (String) -> Void = { _ in }
    ) throws -> (model: DLRM, result: Result) {
        guard train.tableSizes == configuration.tableSizes, train.denseCount == configuration.bottomMLP.first else {
            throw DLRMError.invalidConfiguration(
                "the dataset has \(train.denseCount) dense features and tables \(train.tableSizes); the model expects \(configuration.bottomMLP.first ?? 0) and \(configuration.tableSizes)"
            )
        }
        guard batchSize > 0, epochs > 0, !trainChunks.isEmpty, !testChunks.isEmpty else {
            throw DLRMError.invalidConfiguration("batch size and epochs must be positive and both parts of the data non-empty")
        }
        guard phases.allSatisfy({ (0..<1).contains($0) }) else {
            throw DLRMError.invalidConfiguration("AMGP phases are prune fractions in [0, 1), got \(phases)")
        }
        guard phaseLengths.isEmpty || (phaseLengths.count == phases.count && phaseLengths.allSatisfy { $0 > 0 }) else {
            throw DLRMError.invalidConfiguration(
                "AMGP phase lengths must be positive, one per phase: \(phaseLengths.count) for \(phases.count) phases")
        }
        var rng = RandomGenerator(seed: seed)
        let model = try DLRM(configuration, using: &rng)
        let hybrid = communicator.flatMap { $0.size > 1 ? HybridDLRM(model: model, communicator: $0) : nil }
        if let hybrid {
            try DataParallel(hybrid.communicator).broadcastParameters(model)
            progress("hybrid parallel over \(hybrid.communicator.size) ranks; tables by rank:\n" + hybrid.plan.summary)
        }
        let growth = AlternateGrowthPruning(model: model, regrowth: regrowth, seed: seed)
        let stepsPerEpoch = trainChunks.reduce(0) { $0 + (train.chunkSize($1) + batchSize - 1) / batchSize }
        let totalSteps = epochs * stepsPerEpoch
        guard stepsPerEpoch > 0 else { throw DLRMError.invalidConfiguration("the training chunks \(trainChunks) hold no examples") }
        var loop = try resumed(model, growth, trainChunks: trainChunks) ?? LoopState()
        let resumedSteps = loop.steps
        var optimizer = SGD(parameters: model.parameters(), learningRate: learningRate)
        let started = Date()
        // Steps before `resumedSteps` were taken by the run that wrote the checkpoint: whole chunks of
        // them are skipped unread, the rest batch by batch.
        var position = 0
        for epoch in 0..<epochs {
            for c in trainChunks {
                let chunkSteps = (train.chunkSize(c) + batchSize - 1) / batchSize
                if position + chunkSteps <= resumedSteps {
                    position += chunkSteps
                    continue
                }
                let examples = try train.chunk(c)
                if epoch == 0 && position >= resumedSteps {
                    loop.seen += examples.count
                    loop.positives += examples.filter { $0.label == 1 }.count
                }
                for start in stride(from: 0, to: examples.count, by: batchSize) {
                    position += 1
                    if position <= resumedSteps { continue }
                    let slice = examples[start..<min(start + batchSize, examples.count)]
                    let current = self.phase(at: loop.steps, of: totalSteps)
                    if current != loop.phase {
                        // Entering a phase: regrow to full width, then prune to the phase's fraction; the
                        // optimizer starts afresh on the new parameters.
                        if loop.phase >= 0 { growth.regrow() }
                        if !phases.isEmpty && phases[current] > 0 { try growth.prune(fraction: phases[current]) }
                        optimizer = SGD(parameters: model.parameters(), learningRate: learningRate)
                        loop.phase = current
                    }
                    loop.multiplyAdds += 3 * Double(growth.forwardMultiplyAdds * slice.count)
                    optimizer.learningRate = learningRate(at: loop.steps)
                    optimizer.zeroGrad()
                    let loss: Float
                    if let hybrid {
                        let parallel = DataParallel(hybrid.communicator), count = slice.count
                        let batch = Self.batch(slice, only: Set(hybrid.plan.tables(of: hybrid.communicator.rank)))
                        loss = try hybrid.backward(batch, labels: slice.map(\.label)) { parallel.shard(of: count, rank: $0) }
                    } else {
                        let labels = Tensor(slice.map(\.label)).reshaped([slice.count, 1])
                        let mean = try Loss.binaryCrossEntropyWithLogits(try model(Self.batch(slice)), targets: labels)
                        mean.backward()
                        loss = mean.scalars[0]
                    }
                    optimizer.step()
                    loop.steps += 1
                    try onStep(Step(step: loop.steps, epoch: epoch + 1, phase: loop.phase, learningRate: optimizer.learningRate, loss: loss))
                    if let checkpointing, checkpointing.everySteps > 0, loop.steps % checkpointing.everySteps == 0, loop.steps < totalSteps {
                        var saved = loop
                        saved.seconds += Date().timeIntervalSince(started)
                        try hybrid?.synchronizeTables()
                        if hybrid?.communicator.isRoot ?? true { try writeCheckpoint(saved, model: model, growth: growth, trainChunks: trainChunks) }
                    }
                }
            }
            progress("epoch \(epoch + 1)/\(epochs): \(loop.steps) steps")
        }
        let seconds = loop.seconds + Date().timeIntervalSince(started)
        // Every rank gets every table back (the replicas then checked identical: AMGP's phases changed
        // the same neurons everywhere) and scores its shard of the test set with the whole model.
        if let hybrid {
            try hybrid.synchronizeTables()
            try DataParallel(hybrid.communicator).checkReplicasAgree(model)
        }
        var predictions: [Float] = [], labels: [Float] = []
        for c in testChunks {
            let examples = try test.chunk(c)
            predictions += try hybrid?.predict(examples) ?? OnlineTraining.predict(model, examples)
            labels += examples.map(\.label)
        }
        let summary = try BinaryMetrics.summary(
            predictions: predictions, labels: labels, trainingCTR: Double(loop.positives) / Double(max(loop.seen, 1)))
        return (
            model,
            Result(
                test: summary, trainExamples: loop.seen, seconds: seconds, stepsPerSecond: Double(loop.steps) / max(seconds, 1e-9),
                trainingMultiplyAdds: loop.multiplyAdds)
        )
    }

    /// The learning rate of step `step` (see `decayStartStep`).
    public func learningRate(at step: Int) -> Float {
        guard let start = decayStartStep, step >= start else { return learningRate }
        guard step < start + decaySteps else { return 0 }
        let remaining = Float(start + decaySteps - step) / Float(decaySteps)
        return learningRate * remaining * remaining
    }

    /// The phase that step `step` of `total` falls in.
    public func phase(at step: Int, of total: Int) -> Int {
        guard !phases.isEmpty else { return 0 }
        let lengths = phaseLengths.isEmpty ? Array(repeating: 1.0, count: phases.count) : phaseLengths
        // Boundaries rounded up to whole steps (tolerating rounding error, so 0.1 + 0.2 of 100 steps
        // ends at step 30); equal phases end where ⌊step · phases / total⌋ changes.
        let sum = lengths.reduce(0, +)
        var end = 0.0
        for (index, length) in lengths.enumerated() {
            end += length
            if step < Int((end / sum * Double(total) - 1e-9).rounded(.up)) { return index }
        }
        return phases.count - 1
    }
}
