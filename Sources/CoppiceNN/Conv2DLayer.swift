import CoppiceKernels
import CoppiceTensor

/// 2-D convolution over [N, C, H, W] with weight [outChannels, inChannels, kH, kW] (PyTorch's layout
/// and default init).
public final class Conv2D: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    /// The algorithm to run; nil picks automatically (see `Conv2DAlgorithm.automatic`).
    public var algorithm: Conv2DAlgorithm?

    public init(
        inChannels: Int, outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), bias: Bool = true,
        using rng: inout RandomGenerator
    ) {
        checkArgument(
            inChannels > 0 && outChannels > 0 && kernelSize.0 > 0 && kernelSize.1 > 0,
            "Conv2D needs positive sizes, got \(inChannels)→\(outChannels) with kernel \(kernelSize)")
        let bound = 1 / Float(inChannels * kernelSize.0 * kernelSize.1).squareRoot()
        weight = Parameter(Initializer.uniform(bound: bound).make([outChannels, inChannels, kernelSize.0, kernelSize.1], using: &rng))
        self.bias = bias ? Parameter(Initializer.uniform(bound: bound).make([outChannels], using: &rng)) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    public convenience init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, using rng: inout RandomGenerator
    ) {
        self.init(
            inChannels: inChannels, outChannels: outChannels, kernelSize: (kernelSize, kernelSize),
            stride: (stride, stride), padding: (padding, padding), bias: bias, using: &rng)
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.parameter("weight", weight)
        if let bias { v.parameter("bias", bias) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(
            x, weight: weight.tensor, bias: bias?.tensor, stride: stride, padding: padding, dilation: dilation,
            algorithm: algorithm)
    }
}
