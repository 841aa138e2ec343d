import CoppiceKernels

/// Convolution through the Winograd domain (Lavin & Gray 2016), either with spatial 3×3 weights
/// (`conv2d(..., algorithm: .winogradF4x3)`) or parameterized directly by Winograd-domain weights Q,
/// the "Winograd layer" of Yu, Park & Naumov 2019 (papers.md §1.3.3).

/// conv(x, Q) + bias for x [N, C, H, W] and Winograd-domain weights `weight` [K, C, n, n]
/// (n = 6 for F(4×4,3×3), 4 for F(2×2,3×3)); stride 1. Differentiable in x, Q and bias: the
/// gradient of Q is taken in the Winograd domain, ∂L/∂Q[p] = Σ_tiles ∂L/∂M[p] · V[p]ᵀ.
public func winogradConv2d(
    _ x: Tensor, weight q: Tensor, bias: Tensor? = nil, padding: (Int, Int) = (0, 0),
    transform t: WinogradTransform = .f4x3
) -> Tensor {
    checkArgument(
        x.rank == 4 && q.rank == 4 && q.shape[1] == x.shape[1] && q.shape[2] == t.n && q.shape[3] == t.n,
        "winogradConv2d needs input [N, C, H, W] and weight [K, C, \(t.n), \(t.n)], got \(x.shape) and \(q.shape)")
    let g = Conv2DGeometry(
        batch: x.shape[0], inChannels: x.shape[1], outChannels: q.shape[0], height: x.shape[2], width: x.shape[3],
        kernelHeight: 3, kernelWidth: 3, padding: padding)
    checkArgument(
        g.isValid && g.outHeight > 0 && g.outWidth > 0, "winogradConv2d: input \(x.shape) with padding \(padding) is too small for a 3×3 filter")
    if let bias { checkArgument(bias.shape == [g.outChannels], "winogradConv2d bias of shape \(bias.shape) for \(g.outChannels) output channels") }
    let positionMajor = withoutGradient { q.permuted([2, 3, 0, 1]).contiguous() }
    let plan = WinogradPlan(g, transform: t)
    let (out, saved) = winogradForward(x, positionMajor, bias: bias, plan, keepInput: x.requiresGrad || q.requiresGrad)
    let needQ = q.requiresGrad
    var inputs = [x, q]
    if let bias { inputs.append(bias) }
    return Tensor.differentiable(out, inputs: inputs) { gradOut in
        let (gx, gq) = winogradBackward(gradOut, positionMajor, saved!, plan, needInput: x.requiresGrad, needWeight: needQ)
        let gb = bias.map { _ in gradOut.sum(alongAxes: [0, 2, 3]) }
        return [gx, gq.map { $0.reshaped([t.n, t.n, g.outChannels, g.inChannels]).permuted([2, 3, 0, 1]).contiguous() }] + (bias == nil ? [] : [gb])
    }
}

/// The Winograd-domain weights Q = G w Gᵀ of spatial 3×3 weights w [K, C, 3, 3]: [K, C, n, n].
public func winogradWeights(_ w: Tensor, transform t: WinogradTransform = .f4x3) -> Tensor {
    checkArgument(w.rank == 4 && w.shape[2] == 3 && w.shape[3] == 3, "winogradWeights needs [K, C, 3, 3], got \(w.shape)")
    let (k, c) = (w.shape[0], w.shape[1])
    let wc = w.contiguous()
    defer { withExtendedLifetime(wc) {} }
    var q = Tensor(uninitializedShape: [t.n, t.n, k, c])
    Conv2DWinograd.transformWeights(wc.storage.pointer + wc.offset, outChannels: k, inChannels: c, t, q.storage.pointer)
    q.node = nil
    return q.permuted([2, 3, 0, 1]).contiguous()
}

/// `conv2d` with 3×3 spatial weights through the Winograd domain, forward and backward
/// (∂L/∂w = Gᵀ (∂L/∂Q) G per filter).
func winogradConv2d(_ x: Tensor, spatialWeight w: Tensor, bias: Tensor?, _ g: Conv2DGeometry, transform t: WinogradTransform) -> Tensor {
    let plan = WinogradPlan(g, transform: t)
    let wc = w.contiguous()
    var positionMajor = Tensor(uninitializedShape: [t.n * t.n, g.outChannels, g.inChannels])
    Conv2DWinograd.transformWeights(
        wc.storage.pointer + wc.offset, outChannels: g.outChannels, inChannels: g.inChannels, t,
        positionMajor.storage.pointer)
    withExtendedLifetime(wc) {}
    positionMajor.node = nil
    let (out, saved) = winogradForward(x, positionMajor, bias: bias, plan, keepInput: x.requiresGrad || w.requiresGrad)
    var inputs = [x, w]
    if let bias { inputs.append(bias) }
    return Tensor.differentiable(out, inputs: inputs) { gradOut in
        let (gx, gq) = winogradBackward(gradOut, positionMajor, saved!, plan, needInput: x.requiresGrad, needWeight: w.requiresGrad)
        var gw: Tensor?
        if let gq {
            var spatial = Tensor(uninitializedShape: w.shape)
            Conv2DWinograd.weightGradient(
                gq.storage.pointer + gq.offset, outChannels: g.outChannels, inChannels: g.inChannels, t,
                spatial.storage.pointer)
            withExtendedLifetime(gq) {}
            spatial.node = nil
            gw = spatial
        }
        let gb = bias.map { _ in gradOut.sum(alongAxes: [0, 2, 3]) }
        return [gx, gw] + (bias == nil ? [] : [gb])
    }
}

/// Holds V between the forward and backward passes.
final class WinogradSavedInput: @unchecked Sendable {
    // Invariant: written by the forward pass before the op returns, read-only afterwards.
    let buffer: ScratchBuffer
    init(count: Int) { buffer = ScratchBuffer(count: count) }
}

private func winogradForward(
    _ x: Tensor, _ positionMajor: Tensor, bias: Tensor?, _ plan: WinogradPlan,
    keepInput: Bool
) -> (Tensor, WinogradSavedInput?) {
    let g = plan.geometry
    let xc = x.contiguous(), bc = bias?.contiguous()
    defer { withExtendedLifetime((xc, bc, positionMajor)) {} }
    var out = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
    out.node = nil
    let saved = keepInput && GradMode.isEnabled ? WinogradSavedInput(count: plan.transformedCount(channels: g.inChannels)) : nil
    Conv2DWinograd.forward(
        xc.storage.pointer + xc.offset, winogradWeights: positionMajor.storage.pointer + positionMajor.offset,
        bias: bc.map { UnsafePointer($0.storage.pointer + $0.offset) }, out.storage.pointer, plan,
        savedInput: saved?.buffer.pointer)
    return (out, saved)
}

/// (∂L/∂x, ∂L/∂Q position-major [n², K, C]) from ∂L/∂y.
private func winogradBackward(
    _ gradOut: Tensor, _ positionMajor: Tensor, _ saved: WinogradSavedInput, _ plan: WinogradPlan,
    needInput: Bool, needWeight: Bool
) -> (Tensor?, Tensor?) {
    let g = plan.geometry
    let gy = gradOut.contiguous()
    defer { withExtendedLifetime((gy, positionMajor, saved)) {} }
    var gx = needInput ? Tensor(uninitializedShape: [g.batch, g.inChannels, g.height, g.width]) : nil
    var gq = needWeight ? Tensor(uninitializedShape: [plan.positions, g.outChannels, g.inChannels]) : nil
    Conv2DWinograd.backward(
        gy.storage.pointer + gy.offset, winogradWeights: positionMajor.storage.pointer + positionMajor.offset,
        savedInput: saved.buffer.pointer, plan, inputGradient: gx?.storage.pointer,
        weightGradient: gq?.storage.pointer)
    gx?.node = nil
    gq?.node = nil
    return (gx, gq)
}

extension Tensor {
    /// The same values; the gradient flowing back through it is multiplied by `scale` (broadcast over
    /// the leading axes). Used to precondition a parameter's gradient before the optimizer step.
    public func scalingGradient(by scale: Tensor) -> Tensor {
        let shape = self.shape
        return Tensor.differentiable(detached(), inputs: [self]) { grad in [(grad * scale).summed(toShape: shape)] }
    }
}
