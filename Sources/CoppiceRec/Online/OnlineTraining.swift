import CoppiceData
import CoppiceDistributed
import CoppiceFormats
import CoppiceNN
import CoppiceOptimizers
import CoppiceRuns
import CoppiceSparsity
import CoppiceTensor
import Foundation

/// Online training on a chronological stream with the dense-to-sparse paradigm (Ye et al. 2020;
/// papers.md §3.2). The dense model pre-trains on the first chunks, then for every chunk:
/// 1. every model is evaluated on the chunk before training on it (progressive validation): the
///    chunk's metrics, and lifetime metrics in bounded memory; serving models run through the sparse
///    kernels (`SparseLinear`);
/// 2. the dense model trains on the chunk (SGD, in order, `epochsPerChunk` passes);
/// 3. each serving variant either is regenerated from the just-trained dense model (every r chunks,
///    or — adaptive — after a chunk where its NE exceeded the dense model's by a threshold) or trains
///    on the chunk with its masks. A regenerated model is not trained again on the chunk the dense
///    model just learned (papers.md's loop): measured on MovieLens, such a second pass over-fits the
///    chunk and made r = 1 the worst schedule.
/// NE is normalized by the CTR of everything trained on so far. A checkpoint (one safetensors file
/// holding every model, mask and metric) is written every `checkpointEvery` chunks; a resumed run
/// continues with identical metrics. The logs are appended chunk by chunk (a resume cuts them back to
/// the checkpoint), so memory is bounded by one chunk and the models however long the stream runs.
///
/// Over several ranks every model trains hybrid-parallel (`HybridDLRM`) and, after each chunk, the
/// rows the chunk changed go from each table's owner to every rank; every rank then holds every whole
/// model, scores its shard of the next chunk and regenerates the serving models itself, from the same
/// values and the same metrics, to the same result (checked by checksums after every chunk). Rank 0
/// writes the logs and checkpoints.
public final class OnlineTraining {
    public struct Progress: Sendable {
        public var chunk: Int
        public var model: String
        public var step: Int
    }

    public let configuration: OnlineConfiguration
    public let stream: CTRStream
    public let outputDirectory: String
    /// Called after every training step; throwing stops the run (the last checkpoint stays).
    public var onStep: (Progress) throws -> Void = { _ in }
    /// Called after every chunk with its records.
    public var onChunk: ([OnlineRecord]) -> Void = { _ in }

    let dense: DLRM
    let serving: [DLRM]
    var state: OnlineState
    let end: Int
    /// Several ranks: the communicator (nil alone).
    let communicator: Communicator?
    var writes: Bool { communicator?.isRoot ?? true }

    public var checkpointPath: String { outputDirectory + "/checkpoint.safetensors" }

    public init(
        configuration: OnlineConfiguration, stream: CTRStream, outputDirectory: String, resume: Bool = false, communicator: Communicator? = nil
    ) throws {
        try configuration.validate(chunkCount: stream.chunkCount)
        guard stream.tableSizes == configuration.model.tableSizes, stream.denseCount == configuration.model.bottomMLP.first else {
            throw TrainingError.invalidConfiguration(
                "the stream has \(stream.denseCount) dense features and tables \(stream.tableSizes); the model expects \(configuration.model.bottomMLP.first ?? 0) and \(configuration.model.tableSizes)"
            )
        }
        self.configuration = configuration
        self.stream = stream
        self.outputDirectory = outputDirectory
        self.communicator = communicator.flatMap { $0.size > 1 ? $0 : nil }
        end = [configuration.chunks, stream.chunkCount].compactMap { $0 }.min()!
        var rng = RandomGenerator(seed: configuration.seed)
        dense = try DLRM(configuration.model, using: &rng)
        serving = try configuration.variants.map { _ in try DLRM(configuration.model, using: &rng) }
        state = OnlineState(configuration: configuration, variants: configuration.variants.count)
        if let communicator = self.communicator {
            for model in [dense] + serving { try DataParallel(communicator).broadcastParameters(model) }
        }
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.checkpoint("cannot create \(outputDirectory): \(error)")
        }
        // As `coppice train --resume`: a run killed before its first checkpoint starts over.
        if resume && FileManager.default.fileExists(atPath: checkpointPath) {
            try loadCheckpoint()
        } else if writes {
            // A new run starts new logs.
            for name in ["metrics.csv", "metrics.jsonl"] { try? FileManager.default.removeItem(atPath: outputDirectory + "/" + name) }
        }
    }

    /// Streams to the end (or the configured number of chunks) and returns every record of the run
    /// (read back from its log).
    @discardableResult
    public func run() throws -> [OnlineRecord] {
        let k0 = configuration.pretrainChunks
        if state.nextChunk == 0 {
            var recent: [CTRExample] = []
            for t in 0..<k0 {
                recent = try stream.chunk(t)
                state.see(recent)
                try train(dense, recent, chunk: t, name: "dense")
            }
            for i in serving.indices { _ = try regenerate(i, recent: recent) }
            state.nextChunk = k0
            if writes { try writeCheckpoint() }
        }
        while state.nextChunk < end {
            let t = state.nextChunk
            let chunk = try stream.chunk(t)
            guard !chunk.isEmpty else { throw TrainingError.data("chunk \(t) of the stream is empty") }
            let ctr = state.trainingCTR
            var rows = [try evaluate(model: dense, index: 0, name: "dense", chunk: chunk, ctr: ctr, t: t, sparse: false)]
            for i in serving.indices {
                rows.append(
                    try evaluate(
                        model: serving[i], index: i + 1, name: configuration.variants[i].description, chunk: chunk, ctr: ctr, t: t, sparse: true))
            }
            state.see(chunk)
            try train(dense, chunk, chunk: t, name: "dense")
            let streamed = t - k0 + 1
            for (i, variant) in configuration.variants.enumerated() {
                let due = variant.period.map { streamed % $0 == 0 } ?? false
                var drifted = false
                if let threshold = variant.adaptiveThreshold, let servingNE = rows[i + 1].ne, let denseNE = rows[0].ne {
                    drifted = servingNE - denseNE > threshold
                }
                if due || drifted {
                    rows[i + 1].regenerated = true
                    rows[i + 1].layerSparsity = try regenerate(i, recent: chunk)
                } else {
                    try train(serving[i], chunk, chunk: t, name: variant.description)
                }
            }
            if let communicator {
                for model in [dense] + serving { try DataParallel(communicator).checkReplicasAgree(model) }
            }
            state.nextChunk = t + 1
            guard writes else { continue }
            (state.csvBytes, state.jsonlBytes) = try OnlineReport.appendLogs(rows, to: outputDirectory)
            onChunk(rows)
            if configuration.checkpointEvery > 0 && streamed % configuration.checkpointEvery == 0 || state.nextChunk == end {
                try writeCheckpoint()
            }
        }
        return writes ? try OnlineReport.readLogs(in: outputDirectory) : []
    }

    /// `epochsPerChunk` passes over `examples` in order (over several ranks hybrid-parallel, then the
    /// rows they changed sent from their owners to every rank).
    func train(_ model: DLRM, _ examples: [CTRExample], chunk: Int, name: String) throws {
        let optimizer = SGD(parameters: model.parameters(), learningRate: configuration.learningRate)
        let hybrid = communicator.map { HybridDLRM(model: model, communicator: $0) }
        var step = 0
        for _ in 0..<configuration.epochsPerChunk {
            for start in stride(from: 0, to: examples.count, by: configuration.batchSize) {
                let slice = examples[start..<min(start + configuration.batchSize, examples.count)]
                optimizer.zeroGrad()
                if let hybrid {
                    let parallel = DataParallel(hybrid.communicator), count = slice.count
                    let batch = DLRMTraining.batch(slice, only: Set(hybrid.plan.tables(of: hybrid.communicator.rank)))
                    try hybrid.backward(batch, labels: slice.map(\.label)) { parallel.shard(of: count, rank: $0) }
                } else {
                    let labels = Tensor(slice.map(\.label)).reshaped([slice.count, 1])
                    try Loss.binaryCrossEntropyWithLogits(try model(DLRMTraining.batch(slice)), targets: labels).backward()
                }
                optimizer.step()
                step += 1
                try onStep(Progress(chunk: chunk, model: name, step: step))
            }
        }
        try hybrid?.synchronizeTables(rows: HybridDLRM.rowsLookedUp(examples, tables: model.embeddings.count))
    }

    func evaluate(model: DLRM, index: Int, name: String, chunk: [CTRExample], ctr: Double?, t: Int, sparse: Bool) throws -> OnlineRecord {
        let hybrid = communicator.map { HybridDLRM(model: model, communicator: $0) }
        let score = { try hybrid?.predict(chunk) ?? Self.predict(model, chunk) }
        let predictions = try (sparse ? Self.withSparseMLP(model, score) : score())
        let labels = chunk.map(\.label)
        let summary = try BinaryMetrics.summary(predictions: predictions, labels: labels, trainingCTR: ctr)
        state.metrics[index].trainingCTR = ctr
        try state.metrics[index].add(predictions: predictions, labels: labels)
        let lifetime = state.metrics[index].lifetime()
        return OnlineRecord(
            chunk: t, model: name, examples: chunk.count, ne: summary.normalizedEntropy, auc: summary.auc,
            logLoss: summary.logLoss, calibration: summary.calibration, lifetimeNE: lifetime.normalizedEntropy,
            lifetimeAUC: lifetime.auc, sparsity: Self.sparsity(of: model), regenerated: false, layerSparsity: nil)
    }

    /// Copies the dense model into serving model `i` and prunes it; returns the per-layer sparsity.
    func regenerate(_ i: Int, recent: [CTRExample]) throws -> [Double] {
        let model = serving[i]
        for (_, parameter) in model.namedParameters() { parameter.mask = nil }
        try model.load(stateDict: dense.stateDict())
        let masks = try configuration.variants[i].pruning.masks(
            for: model, sparsity: configuration.sparsity, recent: recent,
            learned: configuration.learned)
        model.zeroGrad()
        let weights = ServingPruning.prunableWeights(of: model).map(\.parameter)
        for (parameter, mask) in zip(weights, masks) {
            parameter.mask = mask
            parameter.applyMask()
        }
        return masks.map { m in 1 - Double(m.scalars.reduce(0, +)) / Double(max(m.count, 1)) }
    }

    /// Probabilities for `examples`, in batches of 4096, off the tape.
    public static func predict(_ model: DLRM, _ examples: [CTRExample]) throws -> [Float] {
        var predictions: [Float] = []
        predictions.reserveCapacity(examples.count)
        for start in stride(from: 0, to: examples.count, by: 4096) {
            let slice = examples[start..<min(start + 4096, examples.count)]
            predictions += try withoutGradient { try model(DLRMTraining.batch(slice)).sigmoid().scalars }
        }
        return predictions
    }

    /// Runs `body` with the MLPs' Linear layers swapped for their CSR twins, then swaps them back.
    public static func withSparseMLP<R>(_ model: DLRM, _ body: () throws -> R) rethrows -> R {
        var swapped: [(Sequential, Int, Linear)] = []
        for sequential in [model.bottom, model.top] {
            for (index, layer) in sequential.layers.enumerated() {
                if let linear = layer as? Linear {
                    swapped.append((sequential, index, linear))
                    sequential.replaceLayer(at: index, with: SparseLinear(linear))
                }
            }
        }
        defer { for (sequential, index, linear) in swapped { sequential.replaceLayer(at: index, with: linear) } }
        return try body()
    }

    /// Fraction of zeros among the MLP weights.
    public static func sparsity(of model: DLRM) -> Double {
        let weights = ServingPruning.prunableWeights(of: model).map { $0.parameter.value.scalars }
        let zeros = weights.reduce(0) { $0 + $1.filter { $0 == 0 }.count }
        return Double(zeros) / Double(max(weights.reduce(0) { $0 + $1.count }, 1))
    }
}
