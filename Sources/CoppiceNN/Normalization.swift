import CoppiceKernels
import CoppiceTensor

/// Batch normalization over the channel axis 1 of [N, C] or [N, C, H, W] (Ioffe & Szegedy 2015):
/// batch statistics in training (running averages updated with `momentum`, unbiased variance as
/// PyTorch), running statistics in evaluation.
public class BatchNorm: Layer, TrainingModeAware {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Parameter
    public let runningVariance: Parameter
    public let epsilon: Float
    public let momentum: Float
    public var isTraining = true
    let expectedRank: Int

    init(features: Int, rank: Int, epsilon: Float, momentum: Float) {
        weight = Parameter(.ones([features]))
        bias = Parameter(.zeros([features]))
        runningMean = Parameter(.zeros([features]), isTrainable: false)
        runningVariance = Parameter(.ones([features]), isTrainable: false)
        self.epsilon = epsilon
        self.momentum = momentum
        expectedRank = rank
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.parameter("weight", weight)
        v.parameter("bias", bias)
        v.buffer("running_mean", runningMean)
        v.buffer("running_var", runningVariance)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        checkArgument(
            x.rank == expectedRank && x.shape[1] == weight.shape[0],
            "BatchNorm expects rank \(expectedRank) with \(weight.shape[0]) channels on axis 1, got \(x.shape)")
        let axes = [0] + Array(2..<x.rank)
        var statShape = [Int](repeating: 1, count: x.rank)
        statShape[1] = weight.shape[0]
        let mean: Tensor, variance: Tensor
        if isTraining {
            mean = x.mean(alongAxes: axes, keepingDimensions: true)
            let centered = x - mean
            variance = centered.squared().mean(alongAxes: axes, keepingDimensions: true)
            let n = Float(x.count / weight.shape[0])
            withoutGradient {
                let batchMean = mean.detached().reshaped([-1])
                let unbiased = variance.detached().reshaped([-1]) * (n / Swift.max(n - 1, 1))
                runningMean.value = runningMean.value * (1 - momentum) + batchMean * momentum
                runningVariance.value = runningVariance.value * (1 - momentum) + unbiased * momentum
            }
            let normalized = centered / (variance + epsilon).squareRoot()
            return normalized * weight.tensor.reshaped(statShape) + bias.tensor.reshaped(statShape)
        }
        mean = runningMean.tensor.reshaped(statShape)
        variance = runningVariance.tensor.reshaped(statShape)
        let scale = weight.tensor.reshaped(statShape) / (variance + epsilon).squareRoot()
        return (x - mean) * scale + bias.tensor.reshaped(statShape)
    }
}

/// Batch normalization of [N, C] features.
public final class BatchNorm1D: BatchNorm {
    public init(features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, rank: 2, epsilon: epsilon, momentum: momentum)
    }
}

/// Batch normalization of [N, C, H, W] feature maps.
public final class BatchNorm2D: BatchNorm {
    public init(features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, rank: 4, epsilon: epsilon, momentum: momentum)
    }
}

/// Layer normalization over the last axis (Ba et al. 2016) with learned scale and shift.
public final class LayerNorm: Layer {
    public let weight: Parameter
    public let bias: Parameter
    public let epsilon: Float

    public init(features: Int, epsilon: Float = 1e-5) {
        weight = Parameter(.ones([features]))
        bias = Parameter(.zeros([features]))
        self.epsilon = epsilon
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.parameter("weight", weight)
        v.parameter("bias", bias)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        checkArgument(x.shape.last == weight.shape[0], "LayerNorm over \(weight.shape[0]) features got shape \(x.shape)")
        let centered = x - x.mean(alongAxes: [-1], keepingDimensions: true)
        let variance = centered.squared().mean(alongAxes: [-1], keepingDimensions: true)
        return centered / (variance + epsilon).squareRoot() * weight.tensor + bias.tensor
    }
}

/// Root-mean-square normalization over the last axis (Zhang & Sennrich 2019), as in Llama:
/// x / sqrt(mean(x²) + ε) · weight.
public final class RMSNorm: Layer {
    public let weight: Parameter
    public let epsilon: Float

    public init(features: Int, epsilon: Float = 1e-6) {
        weight = Parameter(.ones([features]))
        self.epsilon = epsilon
    }

    public func visit(_ v: inout ParameterVisitor) { v.parameter("weight", weight) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        checkArgument(x.shape.last == weight.shape[0], "RMSNorm over \(weight.shape[0]) features got shape \(x.shape)")
        let meanSquare = x.squared().mean(alongAxes: [-1], keepingDimensions: true)
        return x / (meanSquare + epsilon).squareRoot() * weight.tensor
    }
}
