/// Direct 3×3, stride-1, dilation-1 convolution in Swift SIMD (forward only).
///
/// Legend (see `Conv2DGeometry`): each image is first copied into a zero-padded plane per channel
/// whose width is rounded up to whole vectors, so that the inner loop has no bounds checks; outputs
/// are built four channels × one 16-wide vector at a time with fused multiply-adds, and the valid
/// part is copied out. Images are spread over the pool's threads.
public enum Conv2DDirect {
    public static func supports(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 &&
            g.dilationH == 1 && g.dilationW == 1 && g.isValid
    }

    public static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared) {
        checkArgument(supports(g), "Conv2DDirect needs a 3×3, stride-1, dilation-1 geometry, got \(g)")
        let vw = FloatVector.scalarCount
        let (p, q) = (g.outHeight, g.outWidth)
        let rowWidth = (q + vw - 1) / vw * vw
        let paddedWidth = max(g.width + 2 * g.padW, rowWidth + 2)
        let paddedHeight = g.height + 2 * g.padH
        let paddedPlane = paddedWidth * paddedHeight
        let workspace = g.inChannels * paddedPlane + 4 * rowWidth
        let threads = min(pool.threadCount, g.batch)
        let scratch = ScratchBuffer(count: threads * workspace)
        let buffer = scratch.pointer
        defer { withExtendedLifetime(scratch) {} }
        pool.parallelFor(threads) { thread in
            let padded = buffer + thread * workspace
            let rows = padded + g.inChannels * paddedPlane
            for n in ThreadPool.range(of: thread, in: threads, count: g.batch) {
                padded.update(repeating: 0, count: g.inChannels * paddedPlane)
                for c in 0..<g.inChannels {
                    for h in 0..<g.height {
                        (padded + c * paddedPlane + (h + g.padH) * paddedWidth + g.padW)
                            .update(from: x + ((n * g.inChannels + c) * g.height + h) * g.width, count: g.width)
                    }
                }
                var k = 0
                while k < g.outChannels {
                    let block = min(4, g.outChannels - k)
                    for oh in 0..<p {
                        var ow = 0
                        while ow < rowWidth {
                            var a0 = FloatVector(), a1 = FloatVector(), a2 = FloatVector(), a3 = FloatVector()
                            for c in 0..<g.inChannels {
                                let src = padded + c * paddedPlane + oh * paddedWidth + ow
                                let wk = w + (k * g.inChannels + c) * 9
                                let ks = g.inChannels * 9
                                for r in 0..<3 {
                                    for s in 0..<3 {
                                        let v = load(src + r * paddedWidth + s)
                                        let t = r * 3 + s
                                        a0 = a0.addingProduct(v, wk[t])
                                        if block > 1 { a1 = a1.addingProduct(v, wk[ks + t]) }
                                        if block > 2 { a2 = a2.addingProduct(v, wk[2 * ks + t]) }
                                        if block > 3 { a3 = a3.addingProduct(v, wk[3 * ks + t]) }
                                    }
                                }
                            }
                            store(a0, rows + ow)
                            store(a1, rows + rowWidth + ow)
                            store(a2, rows + 2 * rowWidth + ow)
                            store(a3, rows + 3 * rowWidth + ow)
                            ow += vw
                        }
                        for b in 0..<block {
                            let out = y + ((n * g.outChannels + k + b) * p + oh) * q
                            let add = bias?[k + b] ?? 0
                            for j in 0..<q { out[j] = rows[b * rowWidth + j] + add }
                        }
                    }
                    k += block
                }
            }
        }
    }
}
