import CCBLAS

/// The double-precision linear algebra of SparseGPT's optimal-brain-surgeon updates: the inverse of a
/// layer's input Hessian through LAPACK's Cholesky routines, and the lazy batched weight updates
/// through BLAS (both inside OpenBLAS).
public enum DoublePrecision {
    /// The upper-triangular U with A⁻¹ = Uᵀ·U for a symmetric positive-definite A (n × n, row-major),
    /// row-major with zeros below the diagonal; nil when A is not positive definite.
    public static func upperFactorOfInverse(_ a: [Double], n: Int) -> [Double]? {
        precondition(a.count == n * n, "\(a.count) values for a \(n)×\(n) matrix")
        guard n > 0 else { return [] }
        var m = a, info: Int32 = 0, size = Int32(n)
        // A is symmetric, so row- and column-major agree; LAPACK's column-major lower triangle is the
        // row-major upper one.
        dpotrf_("L", &size, &m, &size, &info)
        guard info == 0 else { return nil }
        dpotri_("L", &size, &m, &size, &info)
        guard info == 0 else { return nil }
        for r in 0..<n { for c in (r + 1)..<n { m[c * n + r] = m[r * n + c] } }
        dpotrf_("L", &size, &m, &size, &info)
        guard info == 0 else { return nil }
        for r in 0..<n { for c in 0..<r { m[r * n + c] = 0 } }
        return m
    }

    /// c[m × n] −= a[m × k] · b[k × n], row-major with leading dimensions.
    public static func subtractProduct(
        m: Int, n: Int, k: Int, _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
        _ c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), -1, a, Int32(lda), b, Int32(ldb), 1, c, Int32(ldc))
    }
}
