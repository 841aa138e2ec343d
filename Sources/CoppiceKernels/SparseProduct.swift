import CCPUDispatch

/// Sparse × dense products with a CSR matrix: the work and memory traffic scale with the nonzeros.
///
/// Legend: A is the CSR matrix [m × k] (a weight [out × in]); SpMV computes y[m] = A·x[k]; SpMM
/// computes Yᵀ[m × n] = A · Xᵀ[k × n] for a batch of n activations stored feature-major (row j of Xᵀ
/// holds feature j of the whole batch), so each nonzero of A scales one contiguous row of Xᵀ into
/// an accumulator row that stays in registers for up to 128 batch entries.
public enum SparseProduct {
    /// Nonzeros below which a product runs on one thread.
    public static let parallelThreshold = 16_384

    public static func spmv(_ a: CSRMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        if let short = a.shortColumnIndices {
            short.withUnsafeBufferPointer { spmvRows(a, $0.baseAddress!, x, y, pool) }
        } else {
            a.columnIndices.withUnsafeBufferPointer { spmvRows(a, $0.baseAddress!, x, y, pool) }
        }
    }

    /// y = A·x over row ranges; 16 nonzeros at a time: vector loads of values and indices, x gathered.
    /// On AVX2 CPUs the dispatched C rows (`coppice_csr_rows_times_vector`, hardware gathers) run; the
    /// Swift loop below is the generic twin, shaped by the build's CPU target.
    @inline(__always)
    static func spmvRows<Index: FixedWidthInteger & Sendable>(
        _ a: CSRMatrix, _ indices: UnsafePointer<Index>, _ x: UnsafePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool
    ) {
        let level = CPU.isa
        forEachRowRange(a, pool) { rows in
            a.rowStarts.withUnsafeBufferPointer { starts in
                a.values.withUnsafeBufferPointer { values in
                    if level >= .avx2 {
                        coppice_csr_rows_times_vector(
                            Int32(level.rawValue), starts.baseAddress, values.baseAddress, UnsafeRawPointer(indices),
                            Index.bitWidth == 16 ? 1 : 0, rows.lowerBound, rows.upperBound, x, y)
                        return
                    }
                    let w = FloatVector.scalarCount
                    for r in rows {
                        var k = Int(starts[r])
                        let end = Int(starts[r + 1])
                        var acc = FloatVector()
                        while k &+ w <= end {
                            var gathered = FloatVector()
                            for l in 0..<w { gathered[l] = x[Int(indices[k &+ l])] }
                            acc = multiplyAdd(acc, load(values.baseAddress! + k), gathered)
                            k &+= w
                        }
                        var sum = acc.sum()
                        while k < end { sum += values[k] * x[Int(indices[k])]; k &+= 1 }
                        y[r] = sum
                    }
                }
            }
        }
    }

    /// Yᵀ = A · Xᵀ for `batch` columns: xT is [k × batch], yT is [m × batch], both row-major.
    public static func spmm(
        _ a: CSRMatrix, _ xT: UnsafePointer<Float>, _ yT: UnsafeMutablePointer<Float>, batch n: Int,
        pool: ThreadPool = .shared
    ) {
        if n == 1 { return spmv(a, xT, yT, pool: pool) }
        forEachRowRange(a, pool) { rows in spmmRows(a, rows, xT, ldx: n, yT, ldy: n, columns: n) }
    }

    /// Rows `rows` of Yᵀ = A · Xᵀ over `columns` columns on the calling thread, with row strides
    /// `ldx` and `ldy` (so that a panel of a wider matrix can be multiplied in place).
    public static func spmmRows(
        _ a: CSRMatrix, _ rows: Range<Int>, _ xT: UnsafePointer<Float>, ldx: Int,
        _ yT: UnsafeMutablePointer<Float>, ldy: Int, columns n: Int
    ) {
        let w = FloatVector.scalarCount
        let level = CPU.isa
        a.rowStarts.withUnsafeBufferPointer { starts in
            a.columnIndices.withUnsafeBufferPointer { indices in
                a.values.withUnsafeBufferPointer { values in
                    for r in rows {
                        let (begin, end) = (Int(starts[r]), Int(starts[r + 1]))
                        let out = yT + r * ldy
                        if level >= .avx2 {
                            // The C variant the CPU chose at run time; the Swift loops below follow the build's flags.
                            if begin == end {
                                for c in 0..<n { out[c] = 0 }
                                continue
                            }
                            coppice_csr_row_times_dense(
                                Int32(level.rawValue), values.baseAddress! + begin, indices.baseAddress! + begin, end - begin, xT, ldx, out, n)
                            continue
                        }
                        var c = 0
                        // Eight vectors (128 columns) of accumulators per pass.
                        while c &+ 8 &* w <= n {
                            var a0 = FloatVector(), a1 = FloatVector(), a2 = FloatVector(), a3 = FloatVector()
                            var a4 = FloatVector(), a5 = FloatVector(), a6 = FloatVector(), a7 = FloatVector()
                            for k in begin..<end {
                                let v = FloatVector(repeating: values[k])
                                let src = xT + (Int(indices[k]) &* ldx &+ c)
                                a0 = multiplyAdd(a0, v, load(src)); a1 = multiplyAdd(a1, v, load(src + w))
                                a2 = multiplyAdd(a2, v, load(src + 2 * w)); a3 = multiplyAdd(a3, v, load(src + 3 * w))
                                a4 = multiplyAdd(a4, v, load(src + 4 * w)); a5 = multiplyAdd(a5, v, load(src + 5 * w))
                                a6 = multiplyAdd(a6, v, load(src + 6 * w)); a7 = multiplyAdd(a7, v, load(src + 7 * w))
                            }
                            let dst = out + c
                            store(a0, dst); store(a1, dst + w); store(a2, dst + 2 * w); store(a3, dst + 3 * w)
                            store(a4, dst + 4 * w); store(a5, dst + 5 * w); store(a6, dst + 6 * w); store(a7, dst + 7 * w)
                            c &+= 8 &* w
                        }
                        while c &+ w <= n {
                            var acc = FloatVector()
                            for k in begin..<end {
                                acc = multiplyAdd(acc, FloatVector(repeating: values[k]), load(xT + (Int(indices[k]) &* ldx &+ c)))
                            }
                            store(acc, out + c)
                            c &+= w
                        }
                        while c < n {
                            var sum: Float = 0
                            for k in begin..<end { sum += values[k] * xT[Int(indices[k]) &* ldx &+ c] }
                            out[c] = sum
                            c &+= 1
                        }
                    }
                }
            }
        }
    }

    /// The reference twin of `spmm` (and of `spmv` with batch 1), summing in Double.
    public static func reference(_ a: CSRMatrix, _ xT: UnsafePointer<Float>, _ yT: UnsafeMutablePointer<Float>, batch n: Int) {
        for r in 0..<a.rows {
            for c in 0..<n {
                var sum = 0.0
                for k in Int(a.rowStarts[r])..<Int(a.rowStarts[r + 1]) {
                    sum += Double(a.values[k]) * Double(xT[Int(a.columnIndices[k]) * n + c])
                }
                yT[r * n + c] = Float(sum)
            }
        }
    }

    /// Splits the rows into ranges of about equal nonzeros, one per thread, when the work is large enough.
    static func forEachRowRange(_ a: CSRMatrix, _ pool: ThreadPool, _ body: @escaping (Range<Int>) -> Void) {
        guard pool.threadCount > 1, a.nonzeroCount >= parallelThreshold else { return body(0..<a.rows) }
        let ranges = a.balancedRowRanges(pool.threadCount)
        pool.parallelFor(ranges.count) { body(ranges[$0]) }
    }
}
