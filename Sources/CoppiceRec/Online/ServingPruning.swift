import CoppiceData
import CoppiceNN
import CoppiceRuns
import CoppiceSparsity
import CoppiceTensor
import Foundation

/// How a sparse serving model's masks are chosen from the dense model (papers.md §3.2): over the
/// weights of every Linear layer of the bottom and top MLPs together, `sparsity` of them are removed.
/// - `uniform`: the same fraction in every layer, lowest |w| first (the hand-set split);
/// - `global`: one magnitude threshold across all layers (the split follows the weights' scales);
/// - `learned`: per-layer thresholds learned on recent data under the global budget
///   (`LearnedLayerSparsity`).
public enum ServingPruning: String, Codable, Sendable, CaseIterable {
    case uniform, global, learned

    /// The MLP weights of `model` that serving models prune, by name.
    public static func prunableWeights(of model: DLRM) -> [(name: String, parameter: Parameter)] {
        model.namedParameters().filter { ($0.name.hasPrefix("bot_l.") || $0.name.hasPrefix("top_l.")) && $0.name.hasSuffix(".weight") }
    }

    /// Masks for `prunableWeights(of: model)`, in that order. `recent` is the data the learned
    /// variant fits its thresholds on.
    public func masks(for model: DLRM, sparsity: Double, recent: [CTRExample], learned: LearnedLayerSparsity = .init()) throws -> [Tensor] {
        let weights = Self.prunableWeights(of: model).map(\.parameter)
        switch self {
        case .uniform:
            return try weights.map {
                try MaskSelection.mask(scores: $0.value.abs(), previous: nil, amount: .fraction(sparsity), granularity: .element)
            }
        case .global:
            return try MaskSelection.globalMasks(
                scores: weights.map { $0.value.abs() }, previous: weights.map { _ in nil }, amount: .fraction(sparsity))
        case .learned:
            return try learned.masks(for: model, weights: weights, sparsity: sparsity, data: recent)
        }
    }
}

/// Learns how a global sparsity budget splits across layers (papers.md §3.2's reconstruction of Ye et
/// al. 2020). Each layer l keeps the weights whose normalized magnitude u = |w| / mean|w_l| exceeds a
/// learnable threshold τ_l, relaxed as the gate m = σ((u − τ_l) / T). With the weights fixed at the
/// dense values, the thresholds minimize the loss of the gated model on recent data subject to the
/// kept fraction D(τ) ≤ 1 − s, through the Lagrangian L(w ⊙ m) + λ (D − (1 − s)): τ by Adam, λ by
/// dual ascent. The gradient of τ_l comes from the weight gradient by the chain rule,
/// ∂L/∂τ_l = −Σ g · w · m (1 − m) / T. Finally the gates are hardened with one common shift of all
/// thresholds chosen so the total meets the budget exactly, keeping the learned per-layer split.
public struct LearnedLayerSparsity: Codable, Sendable, Equatable {
    public var steps = 150
    public var batchSize = 256
    public var temperature: Float = 0.1
    public var thresholdLearningRate: Float = 0.05
    public var dualLearningRate: Float = 5

    public init() {}

    public func masks(for model: DLRM, weights: [Parameter], sparsity: Double, data: [CTRExample]) throws -> [Tensor] {
        guard (0..<1).contains(sparsity) else { throw TrainingError.invalidConfiguration("sparsity must be in [0, 1), got \(sparsity)") }
        let dense = weights.map(\.value)
        let scores: [[Float]] = dense.map { w in
            let values = w.scalars
            let mean = values.reduce(0) { $0 + abs($1) } / Float(max(values.count, 1))
            return values.map { abs($0) / max(mean, 1e-12) }
        }
        let total = Float(scores.reduce(0) { $0 + $1.count })
        let keep = Float(1 - sparsity)
        // Start from the uniform split: every layer's own quantile.
        var thresholds = scores.map { Self.quantile($0, sparsity) }
        var firstMoment = [Float](repeating: 0, count: weights.count), secondMoment = firstMoment
        var lambda: Float = 0
        defer { for (parameter, w) in zip(weights, dense) { parameter.value = w; parameter.zeroGrad() } }
        let batches = max(1, data.count / batchSize)
        if !data.isEmpty {
            for step in 0..<steps {
                var gates: [[Float]] = []
                for (l, parameter) in weights.enumerated() {
                    let m = scores[l].map { 1 / (1 + exp(-($0 - thresholds[l]) / temperature)) }
                    gates.append(m)
                    parameter.value = Tensor(zip(dense[l].scalars, m).map { $0 * $1 }).reshaped(dense[l].shape)
                    parameter.zeroGrad()
                }
                let start = (step % batches) * batchSize
                let slice = data[start..<min(start + batchSize, data.count)]
                let labels = Tensor(slice.map(\.label)).reshaped([slice.count, 1])
                try Loss.binaryCrossEntropyWithLogits(try model(DLRMTraining.batch(slice)), targets: labels).backward()
                let density = gates.reduce(0) { $0 + $1.reduce(0, +) } / total
                for (l, parameter) in weights.enumerated() {
                    guard let g = parameter.grad?.scalars else { continue }
                    let w = dense[l].scalars, m = gates[l]
                    var lossGradient: Float = 0, densityGradient: Float = 0
                    for i in m.indices {
                        let slope = -m[i] * (1 - m[i]) / temperature
                        lossGradient += g[i] * w[i] * slope
                        densityGradient += slope
                    }
                    let gradient = lossGradient + lambda * densityGradient / total
                    firstMoment[l] = 0.9 * firstMoment[l] + 0.1 * gradient
                    secondMoment[l] = 0.999 * secondMoment[l] + 0.001 * gradient * gradient
                    let t = Float(step + 1)
                    let mHat = firstMoment[l] / (1 - pow(0.9, t)), vHat = secondMoment[l] / (1 - pow(0.999, t))
                    thresholds[l] = max(0, thresholds[l] - thresholdLearningRate * mHat / (vHat.squareRoot() + 1e-8))
                }
                lambda = max(0, lambda + dualLearningRate * (density - keep))
            }
        }
        return Self.harden(scores: scores, thresholds: thresholds, shapes: dense.map(\.shape), keep: Int((Double(total) * (1 - sparsity)).rounded()))
    }

    /// Masks keeping u > τ_l + c, with the common shift c bisected so that `keep` weights survive
    /// (exactly, up to ties at the boundary).
    static func harden(scores: [[Float]], thresholds: [Float], shapes: [[Int]], keep: Int) -> [Tensor] {
        func kept(_ shift: Float) -> Int {
            zip(scores, thresholds).reduce(0) { sum, layer in sum + layer.0.filter { $0 > layer.1 + shift }.count }
        }
        let maxScore = scores.flatMap { $0 }.max() ?? 0
        var low: Float = -(thresholds.max() ?? 0) - 1, high = maxScore + 1
        for _ in 0..<60 {
            let middle = (low + high) / 2
            if kept(middle) > keep { low = middle } else { high = middle }
        }
        return zip(zip(scores, thresholds), shapes).map { layer, shape in
            Tensor(layer.0.map { $0 > layer.1 + high ? 1 : 0 }).reshaped(shape)
        }
    }

    static func quantile(_ values: [Float], _ q: Double) -> Float {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }
}
