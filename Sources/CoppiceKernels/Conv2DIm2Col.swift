/// 2-D convolution on NCHW buffers by im2col + GEMM (reference twin: `Conv2DReference`).
///
/// Legend (see `Conv2DGeometry`): x[N, C, H, W], w[K, C, R, S], bias[K], y[N, K, P, Q].
/// Images are spread over the pool's threads, one single-threaded GEMM per image, each thread with
/// its own patch buffer; a single image instead uses the multithreaded GEMM.
public enum Conv2DIm2Col {
    /// Forward pass by im2col + GEMM: y[n] = w[K, CRS] · cols(x[n]) + bias.
    public static func forward(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        forEachImage(g, pool: pool, workspace: g.isPointwise ? 0 : g.patchSize * g.outPlane) { n, cols, gemmPool in
            let image = x + n * g.inChannels * g.inPlane
            let out = y + n * g.outChannels * g.outPlane
            let patches: UnsafePointer<Float>
            if g.isPointwise { patches = image } else { Im2Col.unfold(image, g, cols); patches = UnsafePointer(cols) }
            if let bias {
                for k in 0..<g.outChannels { (out + k * g.outPlane).update(repeating: bias[k], count: g.outPlane) }
            }
            Gemm.compute(
                .none, .none, m: g.outChannels, n: g.outPlane, k: g.patchSize, w, lda: g.patchSize,
                patches, ldb: g.outPlane, beta: bias == nil ? 0 : 1, out, ldc: g.outPlane, pool: gemmPool)
        }
    }

    /// Input gradient: gx[n] = fold(wᵀ · gy[n]).
    public static func backwardData(
        _ gy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ gx: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        forEachImage(g, pool: pool, workspace: g.patchSize * g.outPlane) { n, cols, gemmPool in
            let gradOut = gy + n * g.outChannels * g.outPlane
            let gradIn = gx + n * g.inChannels * g.inPlane
            if g.isPointwise {
                Gemm.compute(
                    .transposed, .none, m: g.patchSize, n: g.outPlane, k: g.outChannels, w, lda: g.patchSize,
                    gradOut, ldb: g.outPlane, gradIn, ldc: g.outPlane, pool: gemmPool)
                return
            }
            Gemm.compute(
                .transposed, .none, m: g.patchSize, n: g.outPlane, k: g.outChannels, w, lda: g.patchSize,
                gradOut, ldb: g.outPlane, cols, ldc: g.outPlane, pool: gemmPool)
            gradIn.update(repeating: 0, count: g.inChannels * g.inPlane)
            Im2Col.fold(cols, g, gradIn)
        }
    }

    /// Weight and bias gradients: gw = Σn gy[n] · cols(x[n])ᵀ, gb = Σ gy over n, p, q.
    /// Each thread sums into its own buffer; the buffers are added at the end in a fixed order.
    public static func backwardWeights(
        _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
        _ gw: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?,
        _ g: Conv2DGeometry, pool: ThreadPool = .shared
    ) {
        let weightCount = g.outChannels * g.patchSize
        let threads = g.batch >= pool.threadCount && pool.threadCount > 1 ? pool.threadCount : 1
        let partialBuffer = ScratchBuffer(count: threads * weightCount)
        let partial = partialBuffer.pointer
        partial.update(repeating: 0, count: threads * weightCount)
        let colsSize = g.isPointwise ? 0 : g.patchSize * g.outPlane
        let colsBuffer = ScratchBuffer(count: threads * colsSize)
        let cols = colsBuffer.pointer
        let gemmPool = threads > 1 ? ThreadPool.serial : pool
        let body = { (thread: Int) in
            let images = ThreadPool.range(of: thread, in: threads, count: g.batch)
            let myCols = cols + thread * colsSize
            for n in images {
                let image = x + n * g.inChannels * g.inPlane
                let patches: UnsafePointer<Float>
                if g.isPointwise { patches = image } else { Im2Col.unfold(image, g, myCols); patches = UnsafePointer(myCols) }
                Gemm.compute(
                    .none, .transposed, m: g.outChannels, n: g.patchSize, k: g.outPlane,
                    gy + n * g.outChannels * g.outPlane, lda: g.outPlane, patches, ldb: g.outPlane,
                    beta: 1, partial + thread * weightCount, ldc: g.patchSize, pool: gemmPool)
            }
        }
        if threads > 1 { pool.parallelFor(threads, body) } else { body(0) }
        withExtendedLifetime((partialBuffer, colsBuffer)) {}
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
    static func forEachImage(
        _ g: Conv2DGeometry, pool: ThreadPool, workspace: Int,
        _ body: @escaping (Int, UnsafeMutablePointer<Float>, ThreadPool) -> Void
    ) {
        let threads = g.batch >= pool.threadCount && pool.threadCount > 1 ? pool.threadCount : 1
        let scratch = ScratchBuffer(count: threads * workspace)
        let buffer = scratch.pointer
        defer { withExtendedLifetime(scratch) {} }
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
