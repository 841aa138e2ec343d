#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When to prune and to what sparsity: the target sparsity at a step, or nil when the step does not prune.
public enum SparsitySchedule: Codable, Sendable, Equatable {
    /// Prune once, to `sparsity`, at `step`.
    case oneShot(sparsity: Double, step: Int)
    /// Hold `sparsity` from step 0, re-applying the mask every `frequency` steps.
    case constant(sparsity: Double, frequency: Int)
    /// `stages` equal increments from 0 to `sparsity`, one every `frequency` steps starting at `start`.
    case iterative(sparsity: Double, start: Int, stages: Int, frequency: Int)
    /// Zhu & Gupta 2017 (GMP): sₜ = s_f + (s_i − s_f)·(1 − (t − t₀)/(n·Δt))³ for t = t₀, t₀ + Δt, …, t₀ + n·Δt.
    case gradual(initial: Double, final: Double, start: Int, end: Int, frequency: Int)
    /// Explicit (step, sparsity) pairs.
    case custom([StepTarget])

    public struct StepTarget: Codable, Sendable, Equatable {
        public var step: Int
        public var sparsity: Double
        public init(step: Int, sparsity: Double) { self.step = step; self.sparsity = sparsity }
    }

    /// The target sparsity to prune to at `step`, or nil when this step does not prune.
    public func target(atStep step: Int) -> Double? {
        switch self {
        case .oneShot(let s, let at):
            return step == at ? s : nil
        case .constant(let s, let frequency):
            return step % max(frequency, 1) == 0 ? s : nil
        case .iterative(let s, let start, let stages, let frequency):
            let offset = step - start
            guard offset >= 0, offset % max(frequency, 1) == 0, offset / max(frequency, 1) < stages else { return nil }
            return s * Double(offset / max(frequency, 1) + 1) / Double(stages)
        case .gradual(let initial, let final, let start, let end, let frequency):
            guard step >= start, step <= end, (step - start) % max(frequency, 1) == 0 else { return nil }
            let progress = end > start ? Double(step - start) / Double(end - start) : 1
            return final + (initial - final) * pow(1 - progress, 3)
        case .custom(let targets):
            return targets.first { $0.step == step }?.sparsity
        }
    }

    /// The sparsity this schedule ends at.
    public var finalSparsity: Double {
        switch self {
        case .oneShot(let s, _), .constant(let s, _), .iterative(let s, _, _, _): s
        case .gradual(_, let final, _, _, _): final
        case .custom(let targets): targets.last?.sparsity ?? 0
        }
    }

    public func validate() throws(PruningError) {
        func check(_ ok: Bool, _ message: @autoclosure () -> String) throws(PruningError) { if !ok { throw .invalidRecipe(message()) } }
        let targets: [Double]
        switch self {
        case .oneShot(let s, let step):
            try check(step >= 0, "one-shot step must be 0 or more, got \(step)")
            targets = [s]
        case .constant(let s, let frequency):
            try check(frequency > 0, "constant schedule needs a positive frequency, got \(frequency)")
            targets = [s]
        case .iterative(let s, let start, let stages, let frequency):
            try check(
                start >= 0 && stages > 0 && frequency > 0,
                "iterative schedule needs start ≥ 0 and positive stages and frequency, got \(start), \(stages), \(frequency)")
            targets = [s]
        case .gradual(let i, let f, let start, let end, let frequency):
            try check(start >= 0 && start <= end && frequency > 0, "gradual schedule needs 0 ≤ start ≤ end and a positive frequency")
            targets = [i, f]
        case .custom(let list):
            try check(!list.isEmpty, "custom schedule has no steps")
            try check(
                list.first!.step >= 0 && zip(list, list.dropFirst()).allSatisfy { $0.step < $1.step },
                "custom steps must be 0 or more and increasing, got \(list.map(\.step))")
            targets = list.map(\.sparsity)
        }
        guard targets.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw .invalidAmount("sparsity must be in [0, 1], got \(targets)") }
    }
}
