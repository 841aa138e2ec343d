import CCPUDispatch

/// Block-sparse (BSR) and packed N:M sparse matrices, with products like `SparseProduct`'s.
///
/// Legend: A [m × k] (a weight [out × in]); Yᵀ[m × n] = A · Xᵀ[k × n] for a batch of n activations
/// stored feature-major. BSR keeps r × c blocks that hold any nonzero (edge blocks zero-padded), so a
/// block's columns are a contiguous run of Xᵀ rows, loaded once for all r rows of the block. N:M keeps
/// N values per group of M consecutive columns with their positions (UInt8): no row pointers at all.
public struct BlockCSRMatrix: Sendable, Equatable {
    public let rows: Int, columns: Int, blockRows: Int, blockColumns: Int
    /// Block row b's blocks are `blockStarts[b]..<blockStarts[b + 1]`.
    public let blockStarts: [Int32]
    /// Each block's first column divided by `blockColumns`.
    public let blockColumnIndices: [Int32]
    /// Each block's r × c values, row-major.
    public let values: [Float]

    public var blockCount: Int { blockColumnIndices.count }

    public init(dense: UnsafePointer<Float>, rows: Int, columns: Int, blockRows r: Int, blockColumns c: Int) {
        checkArgument(r > 0 && c > 0 && rows >= 0 && columns >= 0, "BSR needs positive block sizes, got \(r)×\(c) for \(rows)×\(columns)")
        var starts: [Int32] = [0], indices: [Int32] = [], values: [Float] = []
        for top in stride(from: 0, to: rows, by: r) {
            for left in stride(from: 0, to: columns, by: c) {
                var block = [Float](repeating: 0, count: r * c)
                var any = false
                for i in 0..<min(r, rows - top) {
                    for j in 0..<min(c, columns - left) {
                        let v = dense[(top + i) * columns + left + j]
                        block[i * c + j] = v
                        if v != 0 { any = true }
                    }
                }
                if any { indices.append(Int32(left / c)); values += block }
            }
            starts.append(Int32(indices.count))
        }
        self.rows = rows; self.columns = columns; blockRows = r; blockColumns = c
        blockStarts = starts; blockColumnIndices = indices; self.values = values
    }

    public func densified() -> [Float] {
        var dense = [Float](repeating: 0, count: rows * columns)
        for b in 0..<(blockStarts.count - 1) {
            for k in Int(blockStarts[b])..<Int(blockStarts[b + 1]) {
                let left = Int(blockColumnIndices[k]) * blockColumns
                for i in 0..<min(blockRows, rows - b * blockRows) {
                    for j in 0..<min(blockColumns, columns - left) {
                        dense[(b * blockRows + i) * columns + left + j] = values[(k * blockRows + i) * blockColumns + j]
                    }
                }
            }
        }
        return dense
    }
}

extension SparseProduct {
    /// Yᵀ = A · Xᵀ for a block-sparse A (batch 1 is a matrix-vector product).
    public static func spmm(
        _ a: BlockCSRMatrix, _ xT: UnsafePointer<Float>, _ yT: UnsafeMutablePointer<Float>, batch n: Int,
        pool: ThreadPool = .shared
    ) {
        let (r, c) = (a.blockRows, a.blockColumns)
        let blockRowCount = a.blockStarts.count - 1
        let pieces = a.values.count >= parallelThreshold ? pool.threadCount : 1
        let level = Int32(CPU.isa.rawValue)
        // The dispatched C rows (`coppice_bsr_block_rows`, with its generic twin below AVX2).
        let body = { (piece: Int) in
            a.values.withUnsafeBufferPointer { values in
                let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: r * max(n, 1))
                defer { accumulator.deallocate() }
                let blockRows = ThreadPool.range(of: piece, in: pieces, count: blockRowCount)
                coppice_bsr_block_rows(
                    level, values.baseAddress, a.blockStarts, a.blockColumnIndices, r, c, a.rows, a.columns, blockRows.lowerBound,
                    blockRows.upperBound, xT, n, yT, accumulator)
            }
        }
        if pieces > 1 { pool.parallelFor(pieces, body) } else { body(0) }
    }

    /// The reference twin of the block-sparse product: every stored block entry, summed in Double.
    public static func reference(_ a: BlockCSRMatrix, _ xT: UnsafePointer<Float>, _ yT: UnsafeMutablePointer<Float>, batch n: Int) {
        var sums = [Double](repeating: 0, count: a.rows * n)
        for b in 0..<(a.blockStarts.count - 1) {
            for k in Int(a.blockStarts[b])..<Int(a.blockStarts[b + 1]) {
                let left = Int(a.blockColumnIndices[k]) * a.blockColumns
                for i in 0..<min(a.blockRows, a.rows - b * a.blockRows) {
                    for j in 0..<min(a.blockColumns, a.columns - left) {
                        let v = Double(a.values[(k * a.blockRows + i) * a.blockColumns + j])
                        for c in 0..<n { sums[(b * a.blockRows + i) * n + c] += v * Double(xT[(left + j) * n + c]) }
                    }
                }
            }
        }
        for i in sums.indices { yT[i] = Float(sums[i]) }
    }

    /// Yᵀ = A · Xᵀ for a packed N:M A (its reference twin is the CSR one, on the same nonzeros).
    public static func spmm(
        _ a: NMSparseMatrix, _ xT: UnsafePointer<Float>, _ yT: UnsafeMutablePointer<Float>, batch n: Int,
        pool: ThreadPool = .shared
    ) {
        spmm(a.execution, xT, yT, batch: n, pool: pool)
    }
}
