#if canImport(Accelerate)
import Accelerate
#else
import CCBLAS
#endif
import CCPUDispatch

/// Dense matrix products on row-major buffers.
///
/// Legend: C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, where op is identity or transpose and
/// `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored.
public enum Gemm {
    /// Whether an operand is used as stored or transposed.
    public enum Transpose: Sendable { case none, transposed }

    /// Multiply-adds below which a product runs on one thread (measured with `coppice bench engine`:
    /// splitting smaller products across two cores costs more than it saves).
    public static let parallelThreshold = 1 << 19

    /// The obviously-correct triple loop; the oracle for every other path.
    public static func reference(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Double = 0
                for p in 0..<k {
                    let aip = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bpj = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    sum += Double(aip) * Double(bpj)
                }
                let previous = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * Float(sum) + previous
            }
        }
    }

    /// One BLAS call on the calling thread; with OpenBLAS, vectors go to GEMV (0.3.21's sgemm does not
    /// route n = 1 or m = 1 to sgemv itself and is about 3× slower there).
    public static func blas(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLASThreads.configure()
        if m == 0 || n == 0 { return }
        if k == 0 {
            scale(c, ldc: ldc, m: m, n: n, beta: beta)
            return
        }
        if GemmBackend.current == .oneDNN {
            // oneDNN routes vectors to its own GEMV kernels (GEMV 4096² 1.7× faster than OpenBLAS's
            // Prescott sgemv on a Xeon it does not know, docs/results/intel-spr.md).
            coppice_onednn_sgemm(
                transA == .none ? 0 : 1, transB == .none ? 0 : 1, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if n == 1 {
            // c[:,0] = op(A) · b, where b is a column of op(B).
            let incb = transB == .none ? ldb : 1
            let rows = transA == .none ? m : k, cols = transA == .none ? k : m
            cblas_sgemv(
                CblasRowMajor, transA == .none ? CblasNoTrans : CblasTrans,
                Int32(rows), Int32(cols), alpha, a, Int32(lda), b, Int32(incb), beta, c, Int32(ldc))
        } else if m == 1 {
            // c[0,:] = a · op(B) = op(B)ᵀ · aᵀ.
            let inca = transA == .none ? 1 : lda
            let rows = transB == .none ? k : n, cols = transB == .none ? n : k
            cblas_sgemv(
                CblasRowMajor, transB == .none ? CblasTrans : CblasNoTrans,
                Int32(rows), Int32(cols), alpha, b, Int32(ldb), a, Int32(inca), beta, c, 1)
        } else if GemmBackend.current == .blis {
            coppice_blis_sgemm(
                transA == .none ? 0 : 1, transB == .none ? 0 : 1, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else {
            cblas_sgemm(
                CblasRowMajor, transA == .none ? CblasNoTrans : CblasTrans,
                transB == .none ? CblasNoTrans : CblasTrans, Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// The product on all of the pool's threads: large products are split into column (or row)
    /// panels, one single-threaded BLAS call each.
    public static func compute(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool = .shared
    ) {
        let work = m * n * k
        let pieces = work < parallelThreshold ? 1 : pool.threadCount
        if pieces <= 1 {
            blas(transA, transB, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
            return
        }
        if n >= m {
            // Column panels of C use column panels of op(B).
            pool.parallelFor(pieces) { piece in
                let cols = ThreadPool.range(of: piece, in: pieces, count: n)
                let bPanel = transB == .none ? b + cols.lowerBound : b + cols.lowerBound * ldb
                blas(
                    transA, transB, m: m, n: cols.count, k: k, alpha: alpha, a, lda: lda,
                    bPanel, ldb: ldb, beta: beta, c + cols.lowerBound, ldc: ldc)
            }
        } else {
            pool.parallelFor(pieces) { piece in
                let rows = ThreadPool.range(of: piece, in: pieces, count: m)
                let aPanel = transA == .none ? a + rows.lowerBound * lda : a + rows.lowerBound
                blas(
                    transA, transB, m: rows.count, n: n, k: k, alpha: alpha, aPanel, lda: lda,
                    b, ldb: ldb, beta: beta, c + rows.lowerBound * ldc, ldc: ldc)
            }
        }
    }

    /// `batch` independent products whose operands are `strideA`, `strideB`, `strideC` floats apart.
    public static func batched(
        _ transA: Transpose, _ transB: Transpose, batch: Int, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int, strideA: Int, _ b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int, pool: ThreadPool = .shared
    ) {
        if batch >= pool.threadCount && batch * m * n * k >= parallelThreshold {
            pool.parallelFor(batch) { index in
                blas(
                    transA, transB, m: m, n: n, k: k, alpha: alpha, a + index * strideA, lda: lda,
                    b + index * strideB, ldb: ldb, beta: beta, c + index * strideC, ldc: ldc)
            }
        } else {
            for index in 0..<batch {
                compute(
                    transA, transB, m: m, n: n, k: k, alpha: alpha, a + index * strideA, lda: lda,
                    b + index * strideB, ldb: ldb, beta: beta, c + index * strideC, ldc: ldc, pool: pool)
            }
        }
    }

    private static func scale(_ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, beta: Float) {
        for i in 0..<m {
            for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
        }
    }
}

/// Keeps OpenBLAS on one thread: Coppice's own pool splits the work, so BLAS's threads would only
/// compete with it for the same cores.
public enum BLASThreads {
    private static let configured: Bool = {
        #if !canImport(Accelerate)
        openblas_set_num_threads(1)
        #endif
        return true
    }()

    public static func configure() { _ = configured }

    /// Runs `body` with OpenBLAS's own threading at `count` threads (used to measure raw BLAS).
    public static func withBLASThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        configure()
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(count))
        defer { openblas_set_num_threads(1) }
        #endif
        return try body()
    }
}
