import CCPUDispatch

/// Max and average pooling over NCHW planes (`Conv2DGeometry` with inChannels == outChannels).
///
/// Legend: x[N·C, H, W] planes in, y[N·C, P, Q] out; `argmax` holds, per output, the flat index in its
/// input plane of the maximum (PyTorch's `return_indices`), used by the backward scatter.
public enum Pooling {
    public static func maxForward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>, _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        let planes = g.batch * g.inChannels
        let grain = max(1, Elementwise.parallelGrain / max(1, g.inPlane))
        let pairs = isPairWindow(g)
        pool.parallelRanges(planes, grain: grain) { range in
            for plane in range {
                let src = x + plane * g.inPlane
                if pairs {
                    maxPairs(src, y + plane * g.outPlane, argmax + plane * g.outPlane, g)
                    continue
                }
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        var best = -Float.infinity, bestIndex: Int32 = -1
                        forEachTap(g, p, q) { i in
                            let v = src[i]
                            if v > best || bestIndex < 0 || v.isNaN { best = v; bestIndex = Int32(i) }
                        }
                        let o = plane * g.outPlane + p * g.outWidth + q
                        y[o] = best
                        argmax[o] = bestIndex
                    }
                }
            }
        }
    }

    /// Max pooling for inference: no argmax is kept. The common 2×2, stride-2 window without padding
    /// runs the dispatched C kernel; other windows take the training path's loop.
    public static func maxForward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, level: CPU.ISALevel = CPU.isa,
        pool: ThreadPool = .shared
    ) {
        guard isPairWindow(g) else {
            let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: g.batch * g.inChannels * g.outPlane)
            defer { argmax.deallocate() }
            return maxForward(x, y, argmax: argmax, g, pool: pool)
        }
        let grain = max(1, Elementwise.parallelGrain / max(1, g.inPlane))
        pool.parallelRanges(g.batch * g.inChannels, grain: grain) { range in
            coppice_max_pool_2x2(
                Int32(level.rawValue), x + range.lowerBound * g.inPlane, y + range.lowerBound * g.outPlane, range.count, g.height, g.width)
        }
    }

    /// 2×2 windows with stride 2 and no padding.
    static func isPairWindow(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0 && g.dilationH == 1
            && g.dilationW == 1
    }

    /// The common 2×2, stride-2 window without padding, written with selects instead of branches: on
    /// real activations the comparisons are unpredictable, and the branchy form ran 5× slower.
    /// NaN wins, as in PyTorch.
    @inline(__always)
    static func maxPairs(
        _ src: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
        _ g: Conv2DGeometry
    ) {
        let w = g.width
        for p in 0..<g.outHeight {
            let top = src + 2 * p * w, bottom = top + w
            let base = Int32(truncatingIfNeeded: 2 * p * w)
            for q in 0..<g.outWidth {
                let c = 2 &* q
                let column = base &+ Int32(truncatingIfNeeded: c)
                var best = top[c], index = column
                let b = top[c &+ 1], d = bottom[c], e = bottom[c &+ 1]
                let takeB = b > best || b != b
                best = takeB ? b : best
                index = takeB ? column &+ 1 : index
                let takeD = d > best || d != d
                best = takeD ? d : best
                index = takeD ? column &+ Int32(truncatingIfNeeded: w) : index
                let takeE = e > best || e != e
                best = takeE ? e : best
                index = takeE ? column &+ Int32(truncatingIfNeeded: w) &+ 1 : index
                y[p &* g.outWidth &+ q] = best
                argmax[p &* g.outWidth &+ q] = index
            }
        }
    }

    /// gx[plane, argmax] += gy: the adjoint of the max selection (gx is overwritten).
    public static func maxBackward(
        _ gy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
        _ gx: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        let planes = g.batch * g.inChannels
        let grain = max(1, Elementwise.parallelGrain / max(1, g.inPlane))
        pool.parallelRanges(planes, grain: grain) { range in
            for plane in range {
                let dst = gx + plane * g.inPlane
                dst.update(repeating: 0, count: g.inPlane)
                for o in 0..<g.outPlane {
                    let index = argmax[plane * g.outPlane + o]
                    if index >= 0 { dst[Int(index)] += gy[plane * g.outPlane + o] }
                }
            }
        }
    }

    /// Average over each window; padding counts as zeros in the divisor (PyTorch's default
    /// `count_include_pad=True`).
    public static func averageForward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        let planes = g.batch * g.inChannels
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        let grain = max(1, Elementwise.parallelGrain / max(1, g.inPlane))
        pool.parallelRanges(planes, grain: grain) { range in
            for plane in range {
                let src = x + plane * g.inPlane
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        var sum: Float = 0
                        forEachTap(g, p, q) { sum += src[$0] }
                        y[plane * g.outPlane + p * g.outWidth + q] = sum * scale
                    }
                }
            }
        }
    }

    public static func averageBackward(
        _ gy: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
        _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        let planes = g.batch * g.inChannels
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        let grain = max(1, Elementwise.parallelGrain / max(1, g.inPlane))
        pool.parallelRanges(planes, grain: grain) { range in
            for plane in range {
                let dst = gx + plane * g.inPlane
                dst.update(repeating: 0, count: g.inPlane)
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        let v = gy[plane * g.outPlane + p * g.outWidth + q] * scale
                        forEachTap(g, p, q) { dst[$0] += v }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func forEachTap(_ g: Conv2DGeometry, _ p: Int, _ q: Int, _ body: (Int) -> Void) {
        for r in 0..<g.kernelHeight {
            let ih = p * g.strideH - g.padH + r * g.dilationH
            if ih < 0 || ih >= g.height { continue }
            for s in 0..<g.kernelWidth {
                let iw = q * g.strideW - g.padW + s * g.dilationW
                if iw < 0 || iw >= g.width { continue }
                body(ih * g.width + iw)
            }
        }
    }
}
