/// Unfolding of one NCHW image into patch columns, and its adjoint.
///
/// Legend (see `Conv2DGeometry`): cols has C·R·S rows and P·Q columns; row (c, r, s) holds the input
/// values that tap (r, s) of channel c sees at every output position, zero where it falls in padding.
public enum Im2Col {
    /// cols[(c·R + r)·S + s, p·Q + q] = x[c, p·sh − ph + r·dh, q·sw − pw + s·dw] (0 outside).
    public static func unfold(_ x: UnsafePointer<Float>, _ g: Conv2DGeometry, _ cols: UnsafeMutablePointer<Float>) {
        let (p, q) = (g.outHeight, g.outWidth)
        var row = cols
        for c in 0..<g.inChannels {
            let plane = x + c * g.inPlane
            for r in 0..<g.kernelHeight {
                for s in 0..<g.kernelWidth {
                    let (lo, hi) = validColumns(g, s)
                    for op in 0..<p {
                        let dst = row + op * q
                        let ih = op * g.strideH - g.padH + r * g.dilationH
                        if ih < 0 || ih >= g.height || lo >= hi {
                            dst.update(repeating: 0, count: q)
                            continue
                        }
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if hi < q { (dst + hi).update(repeating: 0, count: q - hi) }
                        let src = plane + ih * g.width - g.padW + s * g.dilationW
                        if g.strideW == 1 {
                            (dst + lo).update(from: src + lo, count: hi - lo)
                        } else {
                            for oq in lo..<hi { dst[oq] = src[oq * g.strideW] }
                        }
                    }
                    row += p * q
                }
            }
        }
    }

    /// x[c, ih, iw] += cols[...] over every patch entry that reads (c, ih, iw): the adjoint of `unfold`.
    public static func fold(_ cols: UnsafePointer<Float>, _ g: Conv2DGeometry, _ x: UnsafeMutablePointer<Float>) {
        let (p, q) = (g.outHeight, g.outWidth)
        var row = cols
        for c in 0..<g.inChannels {
            let plane = x + c * g.inPlane
            for r in 0..<g.kernelHeight {
                for s in 0..<g.kernelWidth {
                    let (lo, hi) = validColumns(g, s)
                    for op in 0..<p {
                        let ih = op * g.strideH - g.padH + r * g.dilationH
                        if ih < 0 || ih >= g.height || lo >= hi { continue }
                        let src = row + op * q
                        let dst = plane + ih * g.width - g.padW + s * g.dilationW
                        if g.strideW == 1 {
                            Elementwise.binaryRun(.add, dst + lo, 1, src + lo, 1, dst + lo, hi - lo)
                        } else {
                            for oq in lo..<hi { dst[oq * g.strideW] += src[oq] }
                        }
                    }
                    row += p * q
                }
            }
        }
    }

    /// Output columns q whose input column q·sw − pw + s·dw lies inside the image: lo..<hi.
    @inline(__always)
    static func validColumns(_ g: Conv2DGeometry, _ s: Int) -> (Int, Int) {
        let shift = s * g.dilationW - g.padW
        // q·sw + shift ≥ 0  and  q·sw + shift ≤ W − 1
        let lo = shift >= 0 ? 0 : (-shift + g.strideW - 1) / g.strideW
        let hiInclusive = g.width - 1 - shift
        let hi = hiInclusive < 0 ? 0 : min(g.outWidth, hiInclusive / g.strideW + 1)
        return (min(lo, g.outWidth), hi)
    }
}
