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

/// Max pooling over [N, C, H, W].
public final class MaxPool2D: Layer {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { maxPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Average pooling over [N, C, H, W] (padding counts as zeros).
public final class AvgPool2D: Layer {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { avgPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Mean over the spatial axes: [N, C, H, W] → [N, C].
public final class GlobalAvgPool2D: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { globalAveragePool2d(x) }
}

/// Layers applied in order; their parameters are named by position ("0.weight", "2.bias", ...).
public final class Sequential: Layer {
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public func visit(_ v: inout ParameterVisitor) {
        for (index, layer) in layers.enumerated() { v.module(String(index), layer) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }

    /// Swaps the layer at `index` for another (a sparse twin, a compacted layer); names stay positional.
    public func replaceLayer(at index: Int, with layer: Layer) {
        checkArgument(layers.indices.contains(index), "layer index \(index) out of range for \(layers.count) layers")
        layers[index] = layer
    }
}
