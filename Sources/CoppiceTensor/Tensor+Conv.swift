import CoppiceKernels

extension Conv2DGeometry {
    /// The geometry of `x` [N, C, H, W] convolved with `weight` [K, C, R, S].
    public init(input x: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)) {
        checkArgument(
            x.count == 4 && weight.count == 4 && x[1] == weight[1],
            "conv2d needs input [N, C, H, W] and weight [K, C, R, S] with equal C, got \(x) and \(weight)")
        self.init(
            batch: x[0], inChannels: x[1], outChannels: weight[0], height: x[2], width: x[3],
            kernelHeight: weight[2], kernelWidth: weight[3], stride: stride, padding: padding, dilation: dilation)
        checkArgument(
            isValid, "conv2d geometry is invalid for input \(x), weight \(weight), stride \(stride), padding \(padding), dilation \(dilation)")
    }
}

/// 2-D convolution of `x` [N, C, H, W] with `weight` [K, C, R, S] and optional `bias` [K] (NCHW, as PyTorch).
/// `algorithm` is used where it `supports` the geometry; elsewhere `Conv2DAlgorithm.automatic` runs.
public func conv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
    algorithm: Conv2DAlgorithm? = nil
) -> Tensor {
    let g = Conv2DGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding, dilation: dilation)
    if let bias { checkArgument(bias.shape == [g.outChannels], "conv2d bias of shape \(bias.shape) for \(g.outChannels) output channels") }
    // A requested algorithm that cannot run this geometry (Winograd off 3×3 stride 1) falls back.
    let chosen = algorithm.flatMap { $0.supports(g) ? $0 : nil } ?? Conv2DAlgorithm.automatic(for: g)
    switch chosen {
    case .winogradF2x3: return winogradConv2d(x, spatialWeight: weight, bias: bias, g, transform: .f2x3)
    case .winogradF4x3: return winogradConv2d(x, spatialWeight: weight, bias: bias, g, transform: .f4x3)
    case .im2colGemm, .direct: break
    }
    let xc = x.contiguous(), wc = weight.contiguous(), bc = bias?.contiguous()
    var out = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
    out.node = nil
    let px = xc.storage.pointer + xc.offset, pw = wc.storage.pointer + wc.offset
    let pb = bc.map { UnsafePointer($0.storage.pointer + $0.offset) }
    switch chosen {
    case .im2colGemm: Conv2DIm2Col.forward(px, pw, bias: pb, out.storage.pointer, g)
    case .direct: Conv2DDirect.forward(px, pw, bias: pb, out.storage.pointer, g)
    case .winogradF2x3, .winogradF4x3: preconditionFailure("handled above")
    }
    withExtendedLifetime((xc, wc, bc)) {}
    let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Tensor.differentiable(out, inputs: inputs) { gradOut in
        let gy = gradOut.contiguous()
        defer { withExtendedLifetime(gy) {} }
        let pgy = gy.storage.pointer + gy.offset
        var gx: Tensor?, gw: Tensor?, gb: Tensor?
        if needX {
            var t = Tensor(uninitializedShape: x.shape)
            let pw = wc.storage.pointer + wc.offset
            switch chosen {
            case .direct: Conv2DDirect.backwardData(pgy, pw, t.storage.pointer, g)
            case .im2colGemm, .winogradF2x3, .winogradF4x3: Conv2DIm2Col.backwardData(pgy, pw, t.storage.pointer, g)
            }
            t.node = nil
            gx = t
        }
        if needW || needB {
            var tw = Tensor(uninitializedShape: weight.shape)
            var tb = Tensor(uninitializedShape: [g.outChannels])
            let px = xc.storage.pointer + xc.offset
            let pb = needB ? tb.storage.pointer : nil
            switch chosen {
            case .direct: Conv2DDirect.backwardWeights(px, pgy, tw.storage.pointer, gradBias: pb, g)
            case .im2colGemm, .winogradF2x3, .winogradF4x3: Conv2DIm2Col.backwardWeights(px, pgy, tw.storage.pointer, gradBias: pb, g)
            }
            tw.node = nil; tb.node = nil
            gw = needW ? tw : nil
            gb = needB ? tb : nil
        }
        return bias == nil ? [gx, gw] : [gx, gw, gb]
    }
}

/// Max pooling over [N, C, H, W] windows; the gradient goes to each window's maximum.
public func maxPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
    let g = poolGeometry(x, kernelSize, stride ?? kernelSize, padding)
    let xc = x.contiguous()
    defer { withExtendedLifetime(xc) {} }
    var out = Tensor(uninitializedShape: [g.batch, g.inChannels, g.outHeight, g.outWidth])
    out.node = nil
    guard GradMode.isEnabled && x.node != nil else {
        // Nothing will ask for the gradient: no argmax to record.
        Pooling.maxForward(xc.storage.pointer + xc.offset, out.storage.pointer, g)
        return out
    }
    let indices = IndexBuffer(count: out.count)
    Pooling.maxForward(xc.storage.pointer + xc.offset, out.storage.pointer, argmax: indices.pointer, g)
    return Tensor.differentiable(out, inputs: [x]) { gradOut in
        let gy = gradOut.contiguous()
        defer { withExtendedLifetime(gy) {} }
        var gx = Tensor(uninitializedShape: x.shape)
        Pooling.maxBackward(gy.storage.pointer + gy.offset, argmax: indices.pointer, gx.storage.pointer, g)
        gx.node = nil
        return [gx]
    }
}

/// Average pooling over [N, C, H, W] windows (padding counts as zeros).
public func avgPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
    let g = poolGeometry(x, kernelSize, stride ?? kernelSize, padding)
    let xc = x.contiguous()
    defer { withExtendedLifetime(xc) {} }
    var out = Tensor(uninitializedShape: [g.batch, g.inChannels, g.outHeight, g.outWidth])
    out.node = nil
    Pooling.averageForward(xc.storage.pointer + xc.offset, out.storage.pointer, g)
    return Tensor.differentiable(out, inputs: [x]) { gradOut in
        let gy = gradOut.contiguous()
        defer { withExtendedLifetime(gy) {} }
        var gx = Tensor(uninitializedShape: x.shape)
        Pooling.averageBackward(gy.storage.pointer + gy.offset, gx.storage.pointer, g)
        gx.node = nil
        return [gx]
    }
}

/// Mean over the spatial axes of [N, C, H, W], giving [N, C].
public func globalAveragePool2d(_ x: Tensor) -> Tensor {
    checkArgument(x.rank == 4, "globalAveragePool2d needs [N, C, H, W], got \(x.shape)")
    return x.mean(alongAxes: [2, 3])
}

private func poolGeometry(_ x: Tensor, _ k: (Int, Int), _ s: (Int, Int), _ p: (Int, Int)) -> Conv2DGeometry {
    checkArgument(x.rank == 4, "pooling needs [N, C, H, W], got \(x.shape)")
    let g = Conv2DGeometry(
        batch: x.shape[0], inChannels: x.shape[1], outChannels: x.shape[1], height: x.shape[2],
        width: x.shape[3], kernelHeight: k.0, kernelWidth: k.1, stride: s, padding: p)
    checkArgument(
        g.isValid && p.0 * 2 <= k.0 && p.1 * 2 <= k.1,
        "pooling window \(k), stride \(s), padding \(p) does not fit input \(x.shape)")
    return g
}

/// Owns a buffer of indices captured by a pullback (from the buffer cache: a fresh allocation of this
/// size paid ~2 ms of page faults per max-pool call).
final class IndexBuffer: @unchecked Sendable {
    // Invariant: written once before the owning op returns, read-only afterwards.
    let pointer: UnsafeMutablePointer<Int32>
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = BufferCache.shared.allocate(byteCount: count * MemoryLayout<Int32>.stride)
            .bindMemory(to: Int32.self, capacity: Swift.max(count, 1))
    }
    deinit { BufferCache.shared.deallocate(UnsafeMutableRawPointer(pointer), byteCount: count * MemoryLayout<Int32>.stride) }
}
