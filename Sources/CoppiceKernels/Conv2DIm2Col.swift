/// 2-D convolution on NCHW buffers: the reference twin and the im2col + GEMM path.
///
/// Legend (see `Conv2DGeometry`): x[N, C, H, W], w[K, C, R, S], bias[K], y[N, K, P, Q].
/// Images are spread over the pool's threads, one single-threaded GEMM per image, each thread with
/// its own patch buffer; a single image instead uses the multithreaded GEMM.
public enum Conv2DIm2Col {
    /// y = conv(x, w) + bias, summing in Double: the oracle for every other path.
    public static func reference(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry) {
        for n in 0..<g.batch {
            for k in 0..<g.outChannels {
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        var sum = Double(bias?[k] ?? 0)
                        for c in 0..<g.inChannels {
                            for r in 0..<g.kernelHeight {
                                let ih = p * g.strideH - g.padH + r * g.dilationH
                                if ih < 0 || ih >= g.height { continue }
                                for s in 0..<g.kernelWidth {
                                    let iw = q * g.strideW - g.padW + s * g.dilationW
                                    if iw < 0 || iw >= g.width { continue }
                                    let xv = x[((n * g.inChannels + c) * g.height + ih) * g.width + iw]
                                    let wv = w[((k * g.inChannels + c) * g.kernelHeight + r) * g.kernelWidth + s]
                                    sum += Double(xv) * Double(wv)
                                }
                            }
                        }
                        y[((n * g.outChannels + k) * g.outHeight + p) * g.outWidth + q] = Float(sum)
                    }
                }
            }
        }
    }

    /// Forward pass by im2col + GEMM: y[n] = w[K, CRS] · cols(x[n]) + bias.
    public static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared) {
        forEachImage(g, pool: pool, workspace: g.isPointwise ? 0 : g.patchSize * g.outPlane) { n, cols, gemmPool in
            let image = x + n * g.inChannels * g.inPlane
            let out = y + n * g.outChannels * g.outPlane
            let patches: UnsafePointer<Float>
            if g.isPointwise { patches = image } else { Im2Col.unfold(image, g, cols); patches = UnsafePointer(cols) }
            if let bias {
                for k in 0..<g.outChannels { (out + k * g.outPlane).update(repeating: bias[k], count: g.outPlane) }
            }
            Gemm.compute(.none, .none, m: g.outChannels, n: g.outPlane, k: g.patchSize, w, lda: g.patchSize,
                         patches, ldb: g.outPlane, beta: bias == nil ? 0 : 1, out, ldc: g.outPlane, pool: gemmPool)
        }
    }

    /// Input gradient: gx[n] = fold(wᵀ · gy[n]).
    public static func backwardData(_ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                    _ gx: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared) {
        forEachImage(g, pool: pool, workspace: g.patchSize * g.outPlane) { n, cols, gemmPool in
            let gradOut = gy + n * g.outChannels * g.outPlane
            let gradIn = gx + n * g.inChannels * g.inPlane
            if g.isPointwise {
                Gemm.compute(.transposed, .none, m: g.patchSize, n: g.outPlane, k: g.outChannels, w, lda: g.patchSize,
                             gradOut, ldb: g.outPlane, gradIn, ldc: g.outPlane, pool: gemmPool)
                return
            }
            Gemm.compute(.transposed, .none, m: g.patchSize, n: g.outPlane, k: g.outChannels, w, lda: g.patchSize,
                         gradOut, ldb: g.outPlane, cols, ldc: g.outPlane, pool: gemmPool)
            gradIn.update(repeating: 0, count: g.inChannels * g.inPlane)
            Im2Col.fold(cols, g, gradIn)
        }
    }

    /// Weight and bias gradients: gw = Σn gy[n] · cols(x[n])ᵀ, gb = Σ gy over n, p, q.
    /// Each thread sums into its own buffer; the buffers are added at the end in a fixed order.
    public static func backwardWeights(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                                       _ gw: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?,
                                       _ g: Conv2DGeometry, pool: ThreadPool = .shared) {
        let weightCount = g.outChannels * g.patchSize
        let threads = g.batch >= pool.threadCount && pool.threadCount > 1 ? pool.threadCount : 1
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: threads * weightCount)
        defer { partial.deallocate() }
        partial.initialize(repeating: 0, count: threads * weightCount)
        let colsSize = g.isPointwise ? 0 : g.patchSize * g.outPlane
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: max(1, threads * colsSize))
        defer { cols.deallocate() }
        let gemmPool = threads > 1 ? ThreadPool.serial : pool
        let body = { (thread: Int) in
            let images = ThreadPool.range(of: thread, in: threads, count: g.batch)
            let myCols = cols + thread * colsSize
            for n in images {
                let image = x + n * g.inChannels * g.inPlane
                let patches: UnsafePointer<Float>
                if g.isPointwise { patches = image } else { Im2Col.unfold(image, g, myCols); patches = UnsafePointer(myCols) }
                Gemm.compute(.none, .transposed, m: g.outChannels, n: g.patchSize, k: g.outPlane,
                             gy + n * g.outChannels * g.outPlane, lda: g.outPlane, patches, ldb: g.outPlane,
                             beta: 1, partial + thread * weightCount, ldc: g.patchSize, pool: gemmPool)
            }
        }
        if threads > 1 { pool.parallelFor(threads, body) } else { body(0) }
        gw.update(from: partial, count: weightCount)
        for t in 1..<max(threads, 1) { Elementwise.binaryRun(.add, gw, 1, partial + t * weightCount, 1, gw, weightCount) }
        if let gradBias {
            for k in 0..<g.outChannels {
                var sum: Float = 0
                for n in 0..<g.batch { sum += Reduce.reduceRow(.sum, gy + (n * g.outChannels + k) * g.outPlane, g.outPlane) }
                gradBias[k] = sum
            }
        }
    }

    /// Runs `body(image, workspace, gemmPool)` for every image: in parallel over images with
    /// single-threaded GEMMs when there are enough images, else one image at a time with threaded GEMMs.
    static func forEachImage(_ g: Conv2DGeometry, pool: ThreadPool, workspace: Int,
                             _ body: @escaping (Int, UnsafeMutablePointer<Float>, ThreadPool) -> Void) {
        let threads = g.batch >= pool.threadCount && pool.threadCount > 1 ? pool.threadCount : 1
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, threads * workspace))
        defer { buffer.deallocate() }
        if threads == 1 {
            for n in 0..<g.batch { body(n, buffer, pool) }
            return
        }
        pool.parallelFor(threads) { thread in
            for n in ThreadPool.range(of: thread, in: threads, count: g.batch) {
                body(n, buffer + thread * workspace, .serial)
            }
        }
    }
}
