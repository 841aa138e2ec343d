import CoppiceData
import CoppiceFormats
import CoppiceNN
import CoppiceOptimizers
import CoppiceRec
import CoppiceRuns
import CoppiceTensor
import Foundation
import Testing

@Suite struct OnlineTrainingTests {
    static let generator = try! SyntheticCTR(tableSizes: [40, 25, 60], denseCount: 3, drift: .abrupt(every: 900), seed: 3)

    static func configuration(variants: [OnlineVariant], chunks: Int = 7) -> OnlineConfiguration {
        var c = OnlineConfiguration(
            model: DLRMConfiguration(
                bottomMLP: [3, 24, 8], topMLP: [20, 12, 1], embeddingDimension: 8,
                tableSizes: generator.tableSizes), stream: "test")
        c.batchSize = 50
        c.learningRate = 0.3
        c.pretrainChunks = 2
        c.chunks = chunks
        c.sparsity = 0.6
        c.variants = variants
        c.learned.steps = 12
        c.learned.batchSize = 100
        return c
    }

    static let variants = [
        OnlineVariant(pruning: .learned, period: 1), OnlineVariant(pruning: .uniform, period: 2),
        OnlineVariant(pruning: .global), OnlineVariant(pruning: .uniform, adaptiveThreshold: 0),
    ]

    func directory() -> String { NSTemporaryDirectory() + "online-\(UUID().uuidString)" }

    @Test func chunksByDaysAndByCount() throws {
        let examples = [0, 3_600, 86_400 * 2, 86_400 * 8, 86_400 * 9, 86_400 * 30].map {
            CTRExample(label: 0, dense: [], sparse: [], timestamp: 1_000_000_000 - 1_000_000_000 % 86_400 + $0)
        }
        let data = CTRDataset(denseNames: [], sparseNames: [], tableSizes: [], examples: examples)
        #expect(try InMemoryCTRStream(data, chunking: .days(7)).boundaries == [0..<3, 3..<5, 5..<6], "weeks; the empty weeks skipped")
        #expect(try InMemoryCTRStream(data, chunking: .examples(4)).boundaries == [0..<4, 4..<6])
        #expect(throws: CTRDataError.self, "a chunk of no examples is refused") { try InMemoryCTRStream(data, chunking: .examples(0)) }
        #expect(throws: CTRDataError.self, "so is a chunk of no days") { try InMemoryCTRStream(data, chunking: .days(0)) }
        #expect(throws: CTRDataError.self) { try SyntheticCTRStream(Self.generator, chunkSize: 0, chunks: nil) }
        #expect(throws: CTRDataError.self) { try SyntheticCTR(tableSizes: [10, 0]) }
        let synthetic = try SyntheticCTRStream(Self.generator, chunkSize: 10, chunks: nil)
        #expect(try synthetic.chunk(3) == Self.generator.examples(30..<40) && synthetic.chunkCount == nil)
    }

    /// The first streamed chunk is scored by the dense model trained on the pre-training chunks only,
    /// with NE against the CTR of those chunks: the same numbers as training that model by hand.
    @Test func progressiveValidationScoresEachChunkBeforeTrainingOnIt() throws {
        let stream = try SyntheticCTRStream(Self.generator, chunkSize: 300, chunks: nil)
        let config = Self.configuration(variants: [], chunks: 3)
        let records = try OnlineTraining(configuration: config, stream: stream, outputDirectory: directory()).run()
        #expect(records.map(\.chunk) == [2] && records[0].model == "dense")
        var rng = RandomGenerator(seed: config.seed)
        let model = try DLRM(config.model, using: &rng)
        let seen = try stream.chunk(0) + stream.chunk(1)
        for chunk in [try stream.chunk(0), try stream.chunk(1)] {
            let optimizer = SGD(parameters: model.parameters(), learningRate: config.learningRate)
            for start in stride(from: 0, to: chunk.count, by: config.batchSize) {
                let slice = chunk[start..<min(start + config.batchSize, chunk.count)]
                optimizer.zeroGrad()
                try Loss.binaryCrossEntropyWithLogits(
                    try model(DLRMTraining.batch(slice)), targets: Tensor(slice.map(\.label)).reshaped([slice.count, 1])
                ).backward()
                optimizer.step()
            }
        }
        let next = try stream.chunk(2)
        let expected = try BinaryMetrics.summary(
            predictions: OnlineTraining.predict(model, next), labels: next.map(\.label),
            trainingCTR: Double(seen.filter { $0.label == 1 }.count) / Double(seen.count))
        #expect(records[0].ne == expected.normalizedEntropy && records[0].auc == expected.auc && records[0].logLoss == expected.logLoss)
    }

    @Test func resumeAfterAKillMidStreamGivesIdenticalMetrics() throws {
        let stream = try SyntheticCTRStream(Self.generator, chunkSize: 300, chunks: nil)
        let config = Self.configuration(variants: Self.variants)
        let straight = try OnlineTraining(configuration: config, stream: stream, outputDirectory: directory()).run()
        #expect(straight.count == 5 * 5)
        // Checkpoints every 2 chunks: killed in chunk 5, the logs hold chunks 2-4 but the checkpoint
        // only 2-3; resuming cuts the logs back and runs chunk 4 again.
        var everyTwo = config
        everyTwo.checkpointEvery = 2
        let twoStraight = try OnlineTraining(configuration: everyTwo, stream: stream, outputDirectory: directory()).run()
        #expect(twoStraight == straight, "checkpoint spacing does not change the metrics")
        let out = directory()
        let killed = try OnlineTraining(configuration: everyTwo, stream: stream, outputDirectory: out)
        struct Killed: Error {}
        killed.onStep = { if $0.chunk == 5 && $0.model == "prune-once-global" && $0.step == 3 { throw Killed() } }
        #expect(throws: Killed.self) { try killed.run() }
        let log = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 1 + 3 * 5, "chunks 2, 3 and 4 were logged before the kill")
        let resumed = try OnlineTraining(configuration: everyTwo, stream: stream, outputDirectory: out, resume: true).run()
        #expect(resumed == straight)
        #expect(try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n").count == 1 + 5 * 5)
        var other = everyTwo
        other.sparsity = 0.5
        #expect(throws: TrainingError.self, "another run's checkpoint") {
            try OnlineTraining(configuration: other, stream: stream, outputDirectory: out, resume: true)
        }
        // Killed before its first checkpoint, a run resumes by starting over (as `coppice train --resume`).
        #expect(throws: Never.self, "nothing to resume: a new run") {
            try OnlineTraining(configuration: config, stream: stream, outputDirectory: directory(), resume: true)
        }
    }

    @Test func servingModelsMeetTheBudgetRegenerateOnScheduleAndRunSparse() throws {
        let stream = try SyntheticCTRStream(Self.generator, chunkSize: 300, chunks: nil)
        let training = try OnlineTraining(configuration: Self.configuration(variants: Self.variants), stream: stream, outputDirectory: directory())
        let records = try training.run()
        func regenerated(_ model: String) -> [Int] { records.filter { $0.model == model && $0.regenerated }.map(\.chunk) }
        #expect(regenerated("d2s-r1-learned") == [2, 3, 4, 5, 6])
        #expect(regenerated("d2s-r2-uniform") == [3, 5])
        #expect(regenerated("prune-once-global").isEmpty)
        let denseNE = Dictionary(uniqueKeysWithValues: records.filter { $0.model == "dense" }.map { ($0.chunk, $0.ne!) })
        let behind = records.filter { $0.model == "adaptive-0.0-uniform" && $0.ne! > denseNE[$0.chunk]! }.map(\.chunk)
        #expect(regenerated("adaptive-0.0-uniform") == behind, "adaptive: after the chunks where its NE exceeded the dense model's")
        for r in records where r.model != "dense" { #expect(abs(r.sparsity - 0.6) < 0.002, "\(r.model) chunk \(r.chunk): \(r.sparsity)") }
        let uniform = records.first { $0.model == "d2s-r2-uniform" && $0.regenerated }!.layerSparsity!
        #expect(uniform.count == 5 && uniform.allSatisfy { abs($0 - 0.6) < 0.05 }, "every layer 60%, up to rounding (the last has 12 weights)")
        #expect(records.first { $0.model == "d2s-r1-learned" }!.layerSparsity!.count == 5)
        // The CSR path computes what the masked dense weights do.
        let examples = try stream.chunk(7)
        var rng = RandomGenerator(seed: 9)
        let model = try DLRM(Self.configuration(variants: []).model, using: &rng)
        for (parameter, mask) in zip(
            ServingPruning.prunableWeights(of: model).map(\.parameter),
            try ServingPruning.uniform.masks(for: model, sparsity: 0.6, recent: []))
        {
            parameter.mask = mask
            parameter.applyMask()
        }
        let dense = try OnlineTraining.predict(model, examples)
        let sparse = try OnlineTraining.withSparseMLP(model) { try OnlineTraining.predict(model, examples) }
        #expect(zip(dense, sparse).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(model.bottom.layers.first is Linear, "the dense layers are back afterwards")
    }

    /// At the same global budget, thresholds learned on data lose no more than one magnitude
    /// threshold per layer (uniform), and the budget is met exactly.
    @Test func learnedLayerSparsityMeetsTheBudgetAndBeatsUniform() throws {
        let stream = try SyntheticCTRStream(Self.generator, chunkSize: 600, chunks: nil)
        var config = Self.configuration(variants: [], chunks: 3)
        config.pretrainChunks = 2
        let out = directory()
        try OnlineTraining(configuration: config, stream: stream, outputDirectory: out).run()
        var rng = RandomGenerator(seed: 0)
        let trained = try DLRM(config.model, using: &rng)
        let state = try SafetensorsFile(path: out + "/checkpoint.safetensors").tensors()
        try trained.load(
            stateDict: Dictionary(uniqueKeysWithValues: state.filter { $0.key.hasPrefix("dense.") }.map { (String($0.key.dropFirst(6)), $0.value) }))
        let data = try stream.chunk(2)
        var learned = LearnedLayerSparsity()
        learned.steps = 60
        func loss(_ masks: [Tensor]) throws -> Double {
            let weights = ServingPruning.prunableWeights(of: trained).map(\.parameter)
            let saved = weights.map(\.value)
            defer { for (w, v) in zip(weights, saved) { w.value = v } }
            for (w, m) in zip(weights, masks) { w.value = w.value * m }
            let p = try OnlineTraining.predict(trained, data)
            return try BinaryMetrics.summary(predictions: p, labels: data.map(\.label), trainingCTR: nil).logLoss
        }
        let learnedMasks = try ServingPruning.learned.masks(for: trained, sparsity: 0.8, recent: data, learned: learned)
        let uniformMasks = try ServingPruning.uniform.masks(for: trained, sparsity: 0.8, recent: data)
        let kept = learnedMasks.reduce(0) { $0 + $1.scalars.reduce(0, +) }, total = learnedMasks.reduce(0) { $0 + $1.count }
        #expect(abs(Double(kept) - 0.2 * Double(total)) <= 1)
        #expect(try loss(learnedMasks) <= loss(uniformMasks))
    }
}
