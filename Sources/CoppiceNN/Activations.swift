import CoppiceKernels
import CoppiceTensor

/// Parameter-free layers that apply a function elementwise or reshape.
public final class ReLU: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.relu() }
}

public final class GELU: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.gelu() }
}

public final class SiLU: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.silu() }
}

public final class Sigmoid: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.sigmoid() }
}

public final class Tanh: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.tanh() }
}

/// Merges all axes after the first: [N, ...] → [N, product].
public final class Flatten: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x.flattened(from: 1) }
}

/// Zeroes each element with probability `probability` in training and scales the rest by 1/(1−p)
/// (inverted dropout); the identity in evaluation. Its generator is seeded, so runs repeat.
public final class Dropout: Layer, TrainingModeAware {
    public let probability: Float
    public var isTraining = true
    public var generator: RandomGenerator

    public init(probability: Float, seed: UInt64 = 0) {
        checkArgument((0..<1).contains(probability), "dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        generator = RandomGenerator(seed: seed)
    }

    public func visit(_ v: inout ParameterVisitor) {}

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining && probability > 0 else { return x }
        let keep = Tensor.bernoulli(x.shape, probability: 1 - probability, using: &generator)
        return x * (keep / (1 - probability))
    }
}
