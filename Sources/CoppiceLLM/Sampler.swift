import CoppiceTensor
import Foundation

/// Picks the next token from logits, llama.cpp-style: repetition penalty over the recent tokens, then
/// temperature (0: greedy), top-k, top-p (nucleus) and min-p filtering, then a draw from a seeded
/// generator, so a seed reproduces a generation.
public struct Sampler: Sendable {
    public var temperature: Float = 0.6
    public var topK = 0
    public var topP: Float = 0.9
    public var minP: Float = 0
    public var repetitionPenalty: Float = 1
    /// How many recent tokens the repetition penalty looks at.
    public var penaltyWindow = 64
    private var rng: RandomGenerator

    public init(seed: UInt64 = 0) { rng = RandomGenerator(seed: seed) }

    public mutating func next(_ logits: [Float], history: [Int]) -> Int {
        var z = logits
        if repetitionPenalty != 1 {
            for token in Set(history.suffix(penaltyWindow)) where token < z.count {
                z[token] = z[token] > 0 ? z[token] / repetitionPenalty : z[token] * repetitionPenalty
            }
        }
        guard temperature > 0 else { return z.indices.max { z[$0] < z[$1] || (z[$0] == z[$1] && $0 > $1) }! }
        var candidates = z.indices.sorted { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }
        if topK > 0 { candidates = Array(candidates.prefix(topK)) }
        let top = z[candidates[0]]
        var probabilities = candidates.map { exp(Double((z[$0] - top) / temperature)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        if minP > 0 {
            let keep = probabilities.prefix { $0 >= Double(minP) * probabilities[0] }.count
            candidates = Array(candidates.prefix(max(keep, 1)))
            probabilities = Array(probabilities.prefix(max(keep, 1)))
        }
        if topP < 1 {
            var mass = 0.0, keep = 0
            while keep < probabilities.count && mass < Double(topP) { mass += probabilities[keep]; keep += 1 }
            candidates = Array(candidates.prefix(max(keep, 1)))
            probabilities = Array(probabilities.prefix(max(keep, 1)))
        }
        let u = Double(rng.nextUniform()) * probabilities.reduce(0, +)
        var cumulative = 0.0
        for (token, p) in zip(candidates, probabilities) {
            cumulative += p
            if u < cumulative { return token }
        }
        return candidates.last!
    }
}

extension LlamaRuntime {
    /// Runs `prompt`, then samples up to `maxTokens` tokens, calling `onToken` as each arrives, and
    /// stops after a token of `stop` (included in the result). The cache keeps the conversation up to
    /// the last generated token, which is returned but not yet run.
    public func generate(prompt: [Int], maxTokens: Int, sampler: inout Sampler, stop: Set<Int>,
                         onToken: (Int) -> Void = { _ in }) throws(LlamaError) -> [Int] {
        var history = prompt, generated: [Int] = []
        var logits = try forward(prompt)
        while generated.count < maxTokens {
            let token = sampler.next(logits, history: history)
            generated.append(token)
            history.append(token)
            onToken(token)
            if stop.contains(token) || generated.count == maxTokens || length >= maxSequence { break }
            logits = try forward([token])
        }
        return generated
    }

    /// exp(mean negative log-likelihood) of each token given those before it, over windows of
    /// `context` tokens (the cache restarts at every window; its first token is only context).
    public func perplexity(_ tokens: [Int], context: Int) throws(LlamaError) -> (perplexity: Double, tokens: Int) {
        guard context >= 2, context <= maxSequence else { throw .invalidInput("context must be in 2...\(maxSequence), got \(context)") }
        var nll = 0.0, count = 0
        let vocabulary = configuration.vocabularySize
        for start in stride(from: 0, to: tokens.count - 1, by: context) {
            let window = Array(tokens[start..<min(start + context, tokens.count)])
            guard window.count >= 2 else { break }
            reset()
            let logits = try forward(window, allLogits: true)
            for i in 0..<(window.count - 1) {
                let row = logits[(i * vocabulary)..<((i + 1) * vocabulary)]
                let top = row.max()!
                let logSum = Double(top) + log(row.reduce(0.0) { $0 + exp(Double($1 - top)) })
                nll += logSum - Double(row[row.startIndex + window[i + 1]])
                count += 1
            }
        }
        guard count > 0 else { throw .invalidInput("perplexity needs at least 2 tokens") }
        return (exp(nll / Double(count)), count)
    }
}
