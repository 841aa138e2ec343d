import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// The inference twin of a pruned 3×3 convolution: sparse Winograd-domain weights (one CSR matrix per
/// tile position), run by `Conv2DWinograd.forward(_:sparseWeights:...)`.
public final class SparseWinogradConv2D: Layer, ReLUFusable {
    public let weights: SparseWinogradWeights
    public let bias: Parameter?
    public let padding: (Int, Int)
    /// Whether the kernel applies ReLU to the output (see `fusingReLU`).
    public let appliesReLU: Bool
    private let denseWeight: Parameter

    private init(_ other: SparseWinogradConv2D, appliesReLU: Bool) {
        (weights, bias, padding, denseWeight) = (other.weights, other.bias, other.padding, other.denseWeight)
        self.appliesReLU = appliesReLU
    }

    /// The same layer with ReLU in the kernel's epilogue.
    public func fusingReLU() -> Layer { SparseWinogradConv2D(self, appliesReLU: true) }

    /// From a Winograd layer's Q.
    public init(_ layer: WinogradConv2D) {
        let q = layer.weight.value
        let positionMajor = q.permuted([2, 3, 0, 1]).contiguous()
        weights = positionMajor.withUnsafeBufferPointer {
            SparseWinogradWeights(winogradWeights: $0.baseAddress!, outChannels: q.shape[0], inChannels: q.shape[1], transform: layer.transform)
        }
        bias = layer.bias.map { Parameter($0.value, isTrainable: false) }
        padding = layer.padding
        appliesReLU = false
        denseWeight = Parameter(q, isTrainable: false)
    }

    /// From a spatial 3×3 convolution, through Q = G W Gᵀ.
    public convenience init(_ conv: Conv2D, transform: WinogradTransform = .f4x3) {
        self.init(WinogradConv2D(converting: conv, transform: transform))
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.buffer("weight", denseWeight)
        if let bias { v.buffer("bias", bias) }
    }

    /// Inference only: the output carries no gradient.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        checkArgument(
            x.rank == 4 && x.shape[1] == weights.inChannels,
            "SparseWinogradConv2D needs input [N, \(weights.inChannels), H, W], got \(x.shape)")
        let g = Conv2DGeometry(
            batch: x.shape[0], inChannels: weights.inChannels, outChannels: weights.outChannels, height: x.shape[2],
            width: x.shape[3], kernelHeight: 3, kernelWidth: 3, padding: padding)
        let input = x.detached().contiguous()
        let b = bias?.value.scalars
        return Tensor(shape: [g.batch, g.outChannels, g.outHeight, g.outWidth]) { out in
            input.withUnsafeBufferPointer { xs in
                Conv2DWinograd.forward(
                    xs.baseAddress!, sparseWeights: weights, bias: b, relu: appliesReLU, out.baseAddress!,
                    WinogradPlan(g, transform: weights.transform))
            }
        }
    }
}
