import CoppiceKernels
import CoppiceTensor

/// A 3×3, stride-1 convolution parameterized directly by its Winograd-domain weights Q
/// [outChannels, inChannels, n, n] (the "Winograd layer" of Yu, Park & Naumov 2019, papers.md §1.3.3):
/// pruning and training act on Q, so its zeros are the zeros a sparse Winograd kernel skips.
public final class WinogradConv2D: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let padding: (Int, Int)
    public let transform: WinogradTransform
    /// Multiplies ∂L/∂Q elementwise before the optimizer sees it ([n, n], broadcast over filters):
    /// Yu et al.'s F^(−1.5) scaling. nil leaves gradients as they are.
    public var gradientScale: Tensor? {
        didSet {
            if let gradientScale {
                checkArgument(
                    gradientScale.shape == [transform.n, transform.n],
                    "gradient scale of shape \(gradientScale.shape) for \(transform.n)×\(transform.n) tiles")
            }
        }
    }

    /// Initialized as the paper's code does: spatial W ~ U(±1/√(C·9)), then Q = G W Gᵀ.
    public convenience init(
        inChannels: Int, outChannels: Int, padding: Int = 1, bias: Bool = true,
        transform: WinogradTransform = .f4x3, using rng: inout RandomGenerator
    ) {
        let spatial = Conv2D(inChannels: inChannels, outChannels: outChannels, kernelSize: 3, padding: padding, bias: bias, using: &rng)
        self.init(converting: spatial, transform: transform)
    }

    /// The same convolution as a trained 3×3, stride-1, dilation-1 `Conv2D`, with Q = G W Gᵀ.
    public init(converting conv: Conv2D, transform: WinogradTransform = .f4x3) {
        let shape = conv.weight.shape
        checkArgument(
            shape[2] == 3 && shape[3] == 3 && conv.stride == (1, 1) && conv.dilation == (1, 1),
            "only 3×3, stride-1, dilation-1 convolutions have a Winograd form, got weight \(shape) stride \(conv.stride) dilation \(conv.dilation)")
        weight = Parameter(winogradWeights(conv.weight.value, transform: transform))
        bias = conv.bias.map { Parameter($0.value) }
        padding = conv.padding
        self.transform = transform
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }

    public func visit(_ v: inout ParameterVisitor) {
        v.parameter("weight", weight)
        if let bias { v.parameter("bias", bias) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var q = weight.tensor
        if let gradientScale { q = q.scalingGradient(by: gradientScale) }
        return winogradConv2d(x, weight: q, bias: bias?.tensor, padding: padding, transform: transform)
    }
}
