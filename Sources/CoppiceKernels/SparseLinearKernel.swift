/// Y = X · Aᵀ + bias for row-major activations X [batch × k] and a CSR weight A [m × k], the
/// layout of a Linear layer. Panels of up to 64 batch rows are transposed into a small feature-major
/// buffer, multiplied by `SparseProduct.spmmRows` (each nonzero scales a contiguous panel row), and
/// transposed back with the bias added, all in cache; panels run on the pool's threads. This avoids
/// transposing the whole activations twice, which costs as much as the product at moderate sparsity.
public enum SparseLinearKernel {
    static let panel = 64

    public static func forward(
        _ a: CSRMatrix, _ x: UnsafePointer<Float>, batch: Int, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        let (m, k) = (a.rows, a.columns)
        if batch == 1 {
            SparseProduct.spmv(a, x, y, pool: pool)
            if let bias { for r in 0..<m { y[r] += bias[r] } }
            return
        }
        let panels = (batch + panel - 1) / panel
        let work = a.nonzeroCount * batch
        if panels < pool.threadCount && work >= SparseProduct.parallelThreshold * 64 {
            return forwardSplittingRows(a, x, batch: batch, bias: bias, y, pool: pool)
        }
        let run = { (p: Int) in
            let b0 = p * panel, n = min(panel, batch - b0)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: (k + m) * panel) { buffer in
                let xT = buffer.baseAddress!, yT = xT + k * panel
                for b in 0..<n {
                    let row = x + (b0 + b) * k
                    for j in 0..<k { xT[j * panel + b] = row[j] }
                }
                SparseProduct.spmmRows(a, 0..<m, xT, ldx: panel, yT, ldy: panel, columns: n)
                for b in 0..<n {
                    let out = y + (b0 + b) * m
                    if let bias {
                        for r in 0..<m { out[r] = yT[r * panel + b] + bias[r] }
                    } else {
                        for r in 0..<m { out[r] = yT[r * panel + b] }
                    }
                }
            }
        }
        if pool.threadCount > 1 && panels > 1 && work >= SparseProduct.parallelThreshold * 64 {
            pool.parallelFor(panels, run)
        } else {
            for p in 0..<panels { run(p) }
        }
    }

    /// One panel shared by the threads (a batch of 32 is one panel): transposed once, then each
    /// thread multiplies a range of A's rows and writes its outputs back with the bias.
    static func forwardSplittingRows(
        _ a: CSRMatrix, _ x: UnsafePointer<Float>, batch n: Int, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, pool: ThreadPool
    ) {
        let (m, k) = (a.rows, a.columns)
        let buffer = ScratchBuffer(count: (k + m) * n)
        let xT = buffer.pointer, yT = xT + k * n
        pool.parallelRanges(k, grain: 256) { features in
            for b in 0..<n {
                let row = x + b * k
                for j in features { xT[j * n + b] = row[j] }
            }
        }
        pool.parallelRanges(m, grain: 8) { rows in
            SparseProduct.spmmRows(a, rows, xT, ldx: n, yT, ldy: n, columns: n)
            for b in 0..<n {
                let out = y + b * m
                for r in rows { out[r] = yT[r * n + b] + (bias?[r] ?? 0) }
            }
        }
        withExtendedLifetime(buffer) {}
    }

    /// The plain definition: y[b, r] = Σ_j A[r, j] · x[b, j] + bias[r].
    public static func reference(
        _ a: CSRMatrix, _ x: UnsafePointer<Float>, batch: Int, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<batch {
            for r in 0..<a.rows {
                var sum = bias?[r] ?? 0
                for e in Int(a.rowStarts[r])..<Int(a.rowStarts[r + 1]) { sum += a.values[e] * x[b * a.columns + Int(a.columnIndices[e])] }
                y[b * a.rows + r] = sum
            }
        }
    }
}
