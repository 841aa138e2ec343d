import CoppiceKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning rate as a function of the step (or epoch) count, as PyTorch's `lr_scheduler`s.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Float
}

/// The base rate times `gamma` every `stepSize` steps (StepLR).
public struct StepDecay: LearningRateSchedule {
    public var base: Float, stepSize: Int, gamma: Float
    public init(base: Float, stepSize: Int, gamma: Float = 0.1) {
        checkArgument(stepSize > 0, "StepDecay needs a positive step size, got \(stepSize)")
        self.base = base; self.stepSize = stepSize; self.gamma = gamma
    }
    public func learningRate(at step: Int) -> Float { base * pow(gamma, Float(step / stepSize)) }
}

/// The base rate times `gamma` at each milestone passed (MultiStepLR).
public struct MultiStepDecay: LearningRateSchedule {
    public var base: Float, milestones: [Int], gamma: Float
    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        self.base = base; self.milestones = milestones.sorted(); self.gamma = gamma
    }
    public func learningRate(at step: Int) -> Float { base * pow(gamma, Float(milestones.filter { $0 <= step }.count)) }
}

/// Cosine annealing from `base` to `minimum` over `totalSteps` (CosineAnnealingLR), then `minimum`.
public struct CosineAnnealing: LearningRateSchedule {
    public var base: Float, totalSteps: Int, minimum: Float
    public init(base: Float, totalSteps: Int, minimum: Float = 0) {
        checkArgument(totalSteps > 0, "CosineAnnealing needs positive total steps, got \(totalSteps)")
        self.base = base; self.totalSteps = totalSteps; self.minimum = minimum
    }
    public func learningRate(at step: Int) -> Float {
        let t = Float(Swift.min(step, totalSteps)) / Float(totalSteps)
        return minimum + (base - minimum) * (1 + cos(Float.pi * t)) / 2
    }
}

/// A linear ramp from `startFactor`·rate to the wrapped schedule's rate over `warmupSteps`, then the
/// wrapped schedule (counted from the end of warm-up).
public struct LinearWarmup: LearningRateSchedule {
    public var warmupSteps: Int, startFactor: Float
    public var then: any LearningRateSchedule
    public init(warmupSteps: Int, startFactor: Float = 0, then: any LearningRateSchedule) {
        self.warmupSteps = warmupSteps; self.startFactor = startFactor; self.then = then
    }
    public func learningRate(at step: Int) -> Float {
        guard step < warmupSteps else { return then.learningRate(at: step - warmupSteps) }
        let factor = startFactor + (1 - startFactor) * Float(step) / Float(warmupSteps)
        return then.learningRate(at: 0) * factor
    }
}

/// A fixed rate.
public struct ConstantRate: LearningRateSchedule {
    public var rate: Float
    public init(_ rate: Float) { self.rate = rate }
    public func learningRate(at step: Int) -> Float { rate }
}
