import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// A trained `Sequential` in the form inference runs, as inference engines build it: every BatchNorm
/// in evaluation mode folded into the Conv2D, WinogradConv2D or Linear before it (its scale into the
/// weights' output rows, its shift into the bias), and a ReLU after such a layer applied to that
/// layer's fresh output in place (`FusedReLU`). Winograd-domain zeros stay zeros: folding scales whole
/// filters. The dense model and the sparse one are both measured in this form, so a speedup comes from
/// the kernels, not from one side skipping a pass over memory.
public enum InferenceFolding {
    /// A new model (the trained one is not changed; layers that fold nothing are shared with it), and
    /// for each of its layers the index of the trained layer it came from.
    public static func fold(_ model: Sequential) -> (model: Sequential, sourceIndices: [Int]) {
        var layers: [Layer] = [], sourceIndices: [Int] = []
        let source = model.layers
        var index = 0
        while index < source.count {
            var layer = source[index]
            sourceIndices.append(index)
            index += 1
            if index < source.count, let norm = source[index] as? BatchNorm, !norm.isTraining, let folded = fold(norm, into: layer) {
                layer = folded
                index += 1
            }
            if index < source.count, source[index] is ReLU, isFoldTarget(layer) {
                layer = FusedReLU(layer)
                index += 1
            }
            layers.append(layer)
        }
        return (Sequential(layers), sourceIndices)
    }

    static func isFoldTarget(_ layer: Layer) -> Bool { layer is Conv2D || layer is WinogradConv2D || layer is Linear }

    /// Per-channel scale γ/√(σ²+ε) and shift β − μ·scale of a BatchNorm in evaluation mode.
    static func affine(of norm: BatchNorm) -> (scale: [Float], shift: [Float]) {
        let gamma = norm.weight.value.scalars, beta = norm.bias.value.scalars
        let mean = norm.runningMean.value.scalars, variance = norm.runningVariance.value.scalars
        let scale = gamma.indices.map { gamma[$0] / (variance[$0] + norm.epsilon).squareRoot() }
        return (scale, beta.indices.map { beta[$0] - mean[$0] * scale[$0] })
    }

    /// `layer` with `norm` folded in, or nil when the layer is not a foldable kind or its output
    /// channels do not match.
    static func fold(_ norm: BatchNorm, into layer: Layer) -> Layer? {
        let (scale, shift) = affine(of: norm)
        var generator = RandomGenerator(seed: 0)
        let weight: Tensor, bias: Tensor?, folded: Layer, foldedWeight: Parameter, foldedBias: Parameter?
        if let conv = layer as? Conv2D {
            let s = conv.weight.shape
            let copy = Conv2D(
                inChannels: s[1], outChannels: s[0], kernelSize: (s[2], s[3]), stride: conv.stride, padding: conv.padding,
                dilation: conv.dilation, bias: true, using: &generator)
            copy.algorithm = conv.algorithm
            (weight, bias, folded, foldedWeight, foldedBias) = (conv.weight.value, conv.bias?.value, copy, copy.weight, copy.bias)
        } else if let winograd = layer as? WinogradConv2D {
            let spatial = Conv2D(
                inChannels: winograd.inChannels, outChannels: winograd.outChannels, kernelSize: 3, padding: winograd.padding.0,
                bias: true, using: &generator)
            let copy = WinogradConv2D(converting: spatial, transform: winograd.transform)
            (weight, bias, folded, foldedWeight, foldedBias) = (winograd.weight.value, winograd.bias?.value, copy, copy.weight, copy.bias)
        } else if let linear = layer as? Linear {
            let copy = Linear(inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, bias: true, using: &generator)
            (weight, bias, folded, foldedWeight, foldedBias) = (linear.weight.value, linear.bias?.value, copy, copy.weight, copy.bias)
        } else {
            return nil
        }
        guard weight.shape[0] == scale.count, let foldedBias else { return nil }
        let values = weight.scalars, rowLength = weight.count / scale.count
        let scaled = values.indices.map { values[$0] * scale[$0 / rowLength] }
        foldedWeight.value = Tensor(scaled).reshaped(weight.shape)
        let oldBias = bias?.scalars ?? [Float](repeating: 0, count: scale.count)
        foldedBias.value = Tensor(scale.indices.map { oldBias[$0] * scale[$0] + shift[$0] })
        return folded
    }
}

/// A layer followed by ReLU, applied in place to the layer's fresh output (one pass over memory that
/// is still in cache, and no second tensor). Inference only: the result carries no gradient.
/// A layer that can apply it in its own epilogue (`ReLUFusable`) does so instead.
public final class FusedReLU: Layer {
    public let inner: Layer
    /// Whether `inner`'s kernel applies the ReLU itself.
    public let innerApplies: Bool

    public init(_ layer: Layer) {
        if let fusable = layer as? ReLUFusable {
            (inner, innerApplies) = (fusable.fusingReLU(), true)
        } else {
            (inner, innerApplies) = (layer, false)
        }
    }

    public func visit(_ v: inout ParameterVisitor) { v.module("inner", inner) }

    /// The layer inside a `FusedReLU` (or `layer` itself), and whether it was inside one.
    public static func unwrapping(_ layer: Layer) -> (layer: Layer, relu: Bool) {
        guard let fused = layer as? FusedReLU else { return (layer, false) }
        return (fused.inner, true)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if innerApplies { return inner(x) }
        var y = withoutGradient { inner(x) }
        y.withUnsafeMutableBufferPointer { Elementwise.unary(.relu, UnsafePointer($0.baseAddress!), $0.baseAddress!, count: $0.count) }
        return y
    }
}

/// A layer whose kernel can apply ReLU to its output in its epilogue.
public protocol ReLUFusable: Layer {
    /// The same layer with ReLU applied to its output.
    func fusingReLU() -> Layer
}
