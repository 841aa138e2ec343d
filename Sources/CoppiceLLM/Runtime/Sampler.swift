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
    /// OpenAI's additive penalties: a logit drops by `presencePenalty` if its token occurs in the
    /// penalty window and by `frequencyPenalty` for every time it does.
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    /// How many recent tokens the penalties look at.
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
        if presencePenalty != 0 || frequencyPenalty != 0 {
            var counts: [Int: Int] = [:]
            for token in history.suffix(penaltyWindow) { counts[token, default: 0] += 1 }
            for (token, n) in counts where token < z.count { z[token] -= presencePenalty + frequencyPenalty * Float(n) }
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
