import CoppiceDistributed
import CoppiceNN
import CoppiceOptimizers
import CoppiceTensor
import Foundation

/// Trains a Llama on a token stream by next-token prediction through the engine's autograd: random
/// windows of `sequenceLength + 1` tokens, AdamW with linear warm-up and cosine decay, until `steps`
/// or `seconds` run out. Perplexity on held-out tokens is measured before and after with the cached
/// runtime. With `parallel`, every rank draws the same windows and trains on its shard of them, the
/// gradients reduced over the ranks: one process's steps, spread (the time limit is agreed on by all).
public struct LanguageModelTraining {
    public var sequenceLength = 128
    public var batchSize = 8
    public var learningRate: Float = 3e-3
    public var weightDecay: Float = 0.01
    public var warmupSteps = 20
    public var steps = 400
    /// Stop after this much training time even if steps remain.
    public var seconds: Double?
    public var seed: UInt64 = 0
    /// Held-out tokens scored for perplexity (a prefix of the held-out stream).
    public var evaluationTokens = 4096
    /// The ranks this run is spread over (nil: this process alone).
    public var parallel: DataParallel?

    public init() {}

    public struct Result: Codable, Sendable {
        public var initialPerplexity: Double
        public var finalPerplexity: Double
        public var steps: Int
        public var seconds: Double
        public var trainTokens: Int
        public var evaluatedTokens: Int
        public var losses: [Float]
    }

    public func run(_ model: Llama, train: [Int], heldOut: [Int], progress: (Int, Float) -> Void = { _, _ in }) throws -> Result {
        guard train.count > sequenceLength + 1, heldOut.count >= 2 else {
            throw LlamaError.invalidInput("\(train.count) training tokens for windows of \(sequenceLength + 1); \(heldOut.count) held-out tokens")
        }
        let scored = Array(heldOut.prefix(evaluationTokens))
        func perplexity() throws -> Double {
            try LlamaRuntime(model: model, maxSequence: sequenceLength, maxBatch: sequenceLength).perplexity(scored, context: sequenceLength)
                .perplexity
        }
        let initial = try perplexity()
        try parallel?.broadcastParameters(model)
        let optimizer = Adam(
            parameters: model.parameters(), learningRate: learningRate, beta1: 0.9, beta2: 0.95,
            weightDecay: weightDecay, decoupledWeightDecay: true)
        let schedule = CosineAnnealing(base: learningRate, totalSteps: max(steps - warmupSteps, 1), minimum: learningRate / 10)
        var rng = RandomGenerator(seed: seed)
        var losses: [Float] = []
        let started = Date()
        var step = 0, timeUp = false
        while step < steps, !timeUp {
            optimizer.learningRate =
                step < warmupSteps
                ? learningRate * Float(step + 1) / Float(warmupSteps)
                : schedule.learningRate(at: step - warmupSteps)
            var windows: [Int] = []
            for _ in 0..<batchSize { windows.append(Int(rng.nextUniform() * Float(train.count - sequenceLength - 1))) }
            let mine = parallel?.shard(of: batchSize) ?? 0..<batchSize
            optimizer.zeroGrad()
            var loss: Float = 0
            if !mine.isEmpty {
                let inputs = windows[mine].map { Array(train[$0..<($0 + sequenceLength)]) }
                let targets = windows[mine].flatMap { train[($0 + 1)...($0 + sequenceLength)] }
                let logits = try model(inputs).reshaped([mine.count * sequenceLength, model.configuration.vocabularySize])
                let value = try Loss.crossEntropy(logits, labels: targets)
                value.backward()
                loss = value.scalars[0]
            }
            timeUp = seconds.map { Date().timeIntervalSince(started) >= $0 } ?? false
            if let parallel {
                // The batch's mean loss, and whether any rank's clock ran out: every rank stops at the same step.
                let share = Float(mine.count) / Float(batchSize)
                let totals = try parallel.reduceGradients(model.parameters(), weight: share, extras: [loss * share, timeUp ? 1 : 0])
                (loss, timeUp) = (totals[0], totals[1] > 0)
            }
            optimizer.step()
            losses.append(loss)
            step += 1
            progress(step, loss)
        }
        let elapsed = Date().timeIntervalSince(started)
        return Result(
            initialPerplexity: initial, finalPerplexity: try perplexity(), steps: step, seconds: elapsed,
            trainTokens: train.count, evaluatedTokens: scored.count, losses: losses)
    }
}
