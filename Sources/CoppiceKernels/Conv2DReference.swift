/// Naive convolution passes summed in Double: the oracles for every fast convolution kernel.
///
/// Legend (see `Conv2DGeometry`): x[N, C, H, W], w[K, C, R, S], y[N, K, P, Q].
public enum Conv2DReference {
    public static func forward(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry
    ) {
        for n in 0..<g.batch {
            for k in 0..<g.outChannels {
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        var sum = Double(bias?[k] ?? 0)
                        forEachTap(g, n, k, p, q) { xi, wi in sum += Double(x[xi]) * Double(w[wi]) }
                        y[((n * g.outChannels + k) * g.outHeight + p) * g.outWidth + q] = Float(sum)
                    }
                }
            }
        }
    }

    /// gx = ∂(Σ y·gy)/∂x.
    public static func backwardData(
        _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ gx: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry
    ) {
        var sums = [Double](repeating: 0, count: g.batch * g.inChannels * g.inPlane)
        for n in 0..<g.batch {
            for k in 0..<g.outChannels {
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        let gv = Double(gy[((n * g.outChannels + k) * g.outHeight + p) * g.outWidth + q])
                        forEachTap(g, n, k, p, q) { xi, wi in sums[xi] += gv * Double(w[wi]) }
                    }
                }
            }
        }
        for i in sums.indices { gx[i] = Float(sums[i]) }
    }

    /// gw = ∂(Σ y·gy)/∂w, gb = Σ gy per output channel.
    public static func backwardWeights(
        _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
        _ gw: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?,
        _ g: Conv2DGeometry
    ) {
        var sums = [Double](repeating: 0, count: g.outChannels * g.patchSize)
        var biasSums = [Double](repeating: 0, count: g.outChannels)
        for n in 0..<g.batch {
            for k in 0..<g.outChannels {
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        let gv = Double(gy[((n * g.outChannels + k) * g.outHeight + p) * g.outWidth + q])
                        biasSums[k] += gv
                        forEachTap(g, n, k, p, q) { xi, wi in sums[wi] += gv * Double(x[xi]) }
                    }
                }
            }
        }
        for i in sums.indices { gw[i] = Float(sums[i]) }
        if let gradBias { for k in biasSums.indices { gradBias[k] = Float(biasSums[k]) } }
    }

    /// Calls body(input index, weight index) for every tap of output (n, k, p, q) that lands inside x.
    @inline(__always)
    static func forEachTap(_ g: Conv2DGeometry, _ n: Int, _ k: Int, _ p: Int, _ q: Int, _ body: (Int, Int) -> Void) {
        for c in 0..<g.inChannels {
            for r in 0..<g.kernelHeight {
                let ih = p * g.strideH - g.padH + r * g.dilationH
                if ih < 0 || ih >= g.height { continue }
                for s in 0..<g.kernelWidth {
                    let iw = q * g.strideW - g.padW + s * g.dilationW
                    if iw < 0 || iw >= g.width { continue }
                    body(
                        ((n * g.inChannels + c) * g.height + ih) * g.width + iw,
                        ((k * g.inChannels + c) * g.kernelHeight + r) * g.kernelWidth + s)
                }
            }
        }
    }
}
