import CoppiceTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a weight's importance is scored (higher = keep).
public enum PruningCriterion: String, Codable, Sendable, CaseIterable {
    /// |w|ᵖ (p = the method's norm; for slices this ranks by the Lₚ norm of each slice).
    case magnitude
    /// Uniform noise from the method's seed (a baseline).
    case random
    /// First-order Taylor saliency |w · ∂L/∂w| (Molchanov et al. 2017).
    case taylor
    /// Movement pruning (Sanh et al. 2020): −Σₜ w · ∂L/∂w accumulated over training steps, so weights
    /// moving away from zero score high.
    case movement
}

/// A pruning method: a criterion that scores weights and a granularity that groups them. `mask` is a
/// pure function of the weight (and gradient or movement), the previous mask and the amount.
public struct PruningMethod: Codable, Sendable, Equatable {
    public var criterion: PruningCriterion
    public var granularity: Granularity
    /// The p of the Lₚ norm used by magnitude scores.
    public var norm: Double
    public var seed: UInt64

    public init(criterion: PruningCriterion = .magnitude, granularity: Granularity = .element, norm: Double = 1, seed: UInt64 = 0) {
        self.criterion = criterion
        self.granularity = granularity
        self.norm = norm
        self.seed = seed
    }

    /// Element scores for `weight`; `gradient` is needed by Taylor, `movement` (the running −Σ w·g) by movement.
    public func scores(weight: Tensor, gradient: Tensor? = nil, movement: Tensor? = nil) throws(PruningError) -> Tensor {
        switch criterion {
        case .magnitude:
            let p = norm
            return weight.mapValues { p == 1 ? Swift.abs($0) : Float(pow(Double(Swift.abs($0)), p)) }
        case .random:
            var rng = RandomGenerator(seed: seed)
            return Tensor.uniform(weight.shape, using: &rng)
        case .taylor:
            guard let gradient else { throw .missingGradient("Taylor pruning needs the weight's gradient") }
            guard gradient.shape == weight.shape else { throw .shapeMismatch("gradient \(gradient.shape) for weight \(weight.shape)") }
            return withoutGradient { (weight * gradient).abs() }
        case .movement:
            guard let movement else { throw .missingGradient("movement pruning needs the accumulated −w·g scores") }
            guard movement.shape == weight.shape else { throw .shapeMismatch("movement \(movement.shape) for weight \(weight.shape)") }
            return movement
        }
    }

    public func mask(
        weight: Tensor, gradient: Tensor? = nil, movement: Tensor? = nil, previous: Tensor?,
        amount: PruningAmount
    ) throws(PruningError) -> Tensor {
        try MaskSelection.mask(
            scores: scores(weight: weight, gradient: gradient, movement: movement), previous: previous,
            amount: amount, granularity: granularity)
    }
}
