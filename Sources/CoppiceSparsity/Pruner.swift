import CoppiceNN
import CoppiceTensor

/// Runs a recipe on a model: `init` prepares (selects parameters by pattern and gives each a mask),
/// `step` prunes when the schedule says so, `finalize` leaves the weights zeroed where pruned.
///
/// Masks live on the parameters, so every optimizer keeps pruned weights at zero between steps.
/// A step that fails (a missing gradient, a bad amount) changes nothing: all new masks are computed
/// before any is applied.
public final class Pruner {
    public let recipe: PruningRecipe
    public let targets: [(name: String, parameter: Parameter)]
    private var movement: [ObjectIdentifier: Tensor] = [:]

    public init(model: Module, recipe: PruningRecipe) throws(PruningError) {
        try recipe.validate()
        self.recipe = recipe
        targets = model.namedParameters().filter { named in recipe.parameters.contains { matches(named.name, pattern: $0) } }
        guard !targets.isEmpty else {
            throw .invalidRecipe("no parameter matches \(recipe.parameters); the model has \(model.namedParameters().map(\.name).prefix(8))")
        }
        for (_, parameter) in targets where parameter.mask == nil { parameter.mask = Tensor.ones(parameter.shape) }
    }

    /// Accumulates movement scores −w·∂L/∂w; call after every backward pass when the criterion is movement.
    public func accumulateScores() {
        guard recipe.method.criterion == .movement else { return }
        withoutGradient {
            for (_, parameter) in targets {
                guard let grad = parameter.grad else { continue }
                let key = ObjectIdentifier(parameter)
                let step = -(parameter.value * grad)
                movement[key] = movement[key].map { $0 + step } ?? step
            }
        }
    }

    /// Prunes to the schedule's target if `step` is a pruning step; returns that target, else nil.
    @discardableResult
    public func step(_ step: Int) throws(PruningError) -> Double? {
        guard let target = recipe.schedule.target(atStep: step) else { return nil }
        try prune(to: target)
        return target
    }

    /// Prunes every target to `sparsity` now (never reviving what earlier masks removed).
    public func prune(to sparsity: Double) throws(PruningError) {
        let method = recipe.method
        var masks: [Tensor]
        switch recipe.scope {
        case .layer:
            masks = []
            for (name, parameter) in targets {
                do {
                    masks.append(
                        try method.mask(
                            weight: parameter.value, gradient: parameter.grad,
                            movement: movement[ObjectIdentifier(parameter)], previous: parameter.mask,
                            amount: .fraction(sparsity)))
                } catch {
                    throw error.naming(name)
                }
            }
        case .global:
            var scores: [Tensor] = []
            for (name, parameter) in targets {
                do {
                    scores.append(
                        try method.scores(
                            weight: parameter.value, gradient: parameter.grad,
                            movement: movement[ObjectIdentifier(parameter)]))
                } catch {
                    throw error.naming(name)
                }
            }
            masks = try MaskSelection.globalMasks(scores: scores, previous: targets.map(\.parameter.mask), amount: .fraction(sparsity))
        }
        for ((_, parameter), mask) in zip(targets, masks) {
            parameter.mask = mask
            parameter.applyMask()
        }
    }

    /// Zeroes pruned weights for good and returns the sparsity of every target.
    @discardableResult
    public func finalize() -> [(name: String, sparsity: Double)] {
        for (_, parameter) in targets { parameter.applyMask() }
        return sparsities()
    }

    /// Finalizes, then builds `model`'s inference form with sparse twins wherever they measure faster
    /// on `input` (the model's real input shape and batch), and the per-layer measurements.
    public func finalize(forInference model: Sequential, input: Tensor) -> SparseInferenceModel {
        finalize()
        return SparseInferenceModel(model, input: input)
    }

    /// The fraction of exact zeros in every target.
    public func sparsities() -> [(name: String, sparsity: Double)] {
        targets.map { name, parameter in
            let values = parameter.value.scalars
            return (name, Double(values.filter { $0 == 0 }.count) / Double(max(values.count, 1)))
        }
    }
}

extension PruningError {
    /// The same error with the parameter it concerns named.
    func naming(_ parameter: String) -> PruningError {
        switch self {
        case .invalidAmount(let m): .invalidAmount("\(parameter): \(m)")
        case .invalidGranularity(let m): .invalidGranularity("\(parameter): \(m)")
        case .shapeMismatch(let m): .shapeMismatch("\(parameter): \(m)")
        case .missingGradient(let m): .missingGradient("\(parameter): \(m)")
        case .invalidRecipe(let m): .invalidRecipe("\(parameter): \(m)")
        }
    }
}
