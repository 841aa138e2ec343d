import CoppiceNN
import CoppiceOptimizers
import CoppiceTensor
import Foundation

/// Trains a Llama on a token stream by next-token prediction through the engine's autograd: random
/// windows of `sequenceLength + 1` tokens, AdamW with linear warm-up and cosine decay, until `steps`
/// or `seconds` run out. Perplexity on held-out tokens is measured before and after with the cached
/// runtime.
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
        let optimizer = Adam(
            parameters: model.parameters(), learningRate: learningRate, beta1: 0.9, beta2: 0.95,
            weightDecay: weightDecay, decoupledWeightDecay: true)
        let schedule = CosineAnnealing(base: learningRate, totalSteps: max(steps - warmupSteps, 1), minimum: learningRate / 10)
        var rng = RandomGenerator(seed: seed)
        var losses: [Float] = []
        let started = Date()
        var step = 0
        while step < steps, seconds.map({ Date().timeIntervalSince(started) < $0 }) ?? true {
            optimizer.learningRate =
                step < warmupSteps
                ? learningRate * Float(step + 1) / Float(warmupSteps)
                : schedule.learningRate(at: step - warmupSteps)
            var inputs: [[Int]] = [], targets: [Int] = []
            for _ in 0..<batchSize {
                let start = Int(rng.nextUniform() * Float(train.count - sequenceLength - 1))
                inputs.append(Array(train[start..<(start + sequenceLength)]))
                targets += train[(start + 1)...(start + sequenceLength)]
            }
            optimizer.zeroGrad()
            let logits = try model(inputs).reshaped([batchSize * sequenceLength, model.configuration.vocabularySize])
            let loss = try Loss.crossEntropy(logits, labels: targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.scalars[0])
            step += 1
            progress(step, loss.scalars[0])
        }
        let elapsed = Date().timeIntervalSince(started)
        return Result(
            initialPerplexity: initial, finalPerplexity: try perplexity(), steps: step, seconds: elapsed,
            trainTokens: train.count, evaluatedTokens: scored.count, losses: losses)
    }
}
