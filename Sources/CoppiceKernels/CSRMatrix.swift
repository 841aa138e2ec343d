/// A sparse matrix in compressed sparse row form.
///
/// Legend: rows × columns; row r's nonzeros are `values[rowStarts[r]..<rowStarts[r + 1]]` at columns
/// `columnIndices[...]` (ascending). Indices are 32-bit: they are half the memory traffic of a sparse
/// product, and 64-bit ones would make it slower.
public struct CSRMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let rowStarts: [Int32]
    public let columnIndices: [Int32]
    public let values: [Float]
    /// The column indices again as 16 bits when every column fits (≤ 65,536 columns): a matrix-vector
    /// product streams values and indices once, so halving the indices' bytes is what makes it pay at
    /// moderate sparsity (measured on 4096² at 70%: 1.41× → see `coppice bench sparse`).
    let shortColumnIndices: [UInt16]?

    public var nonzeroCount: Int { values.count }
    public var density: Double { rows * columns == 0 ? 0 : Double(nonzeroCount) / Double(rows * columns) }
    /// Bytes of values and indices (what a product reads besides the dense operand).
    public var byteCount: Int { 4 * (values.count + columnIndices.count + rowStarts.count) }

    public static func == (a: CSRMatrix, b: CSRMatrix) -> Bool {
        a.rows == b.rows && a.columns == b.columns && a.rowStarts == b.rowStarts && a.columnIndices == b.columnIndices && a.values == b.values
    }

    /// The nonzeros of a row-major dense matrix (exact zeros are dropped).
    public init(dense: UnsafePointer<Float>, rows: Int, columns: Int) {
        checkArgument(rows >= 0 && columns >= 0 && columns <= Int(Int32.max), "CSR dimensions \(rows)×\(columns) out of range")
        var starts: [Int32] = [0]
        var indices: [Int32] = [], values: [Float] = []
        starts.reserveCapacity(rows + 1)
        for r in 0..<rows {
            let row = dense + r * columns
            for c in 0..<columns where row[c] != 0 {
                indices.append(Int32(c))
                values.append(row[c])
            }
            checkArgument(values.count <= Int(Int32.max), "CSR matrix has more than 2³¹ nonzeros")
            starts.append(Int32(values.count))
        }
        self.rows = rows
        self.columns = columns
        self.rowStarts = starts
        self.columnIndices = indices
        self.values = values
        shortColumnIndices = columns <= 1 << 16 ? indices.map { UInt16(truncatingIfNeeded: $0) } : nil
    }

    /// A matrix from its arrays (validated by the caller).
    init(rows: Int, columns: Int, rowStarts: [Int32], columnIndices: [Int32], values: [Float]) {
        self.rows = rows; self.columns = columns
        self.rowStarts = rowStarts; self.columnIndices = columnIndices; self.values = values
        shortColumnIndices = columns <= 1 << 16 ? columnIndices.map { UInt16(truncatingIfNeeded: $0) } : nil
    }

    /// The dense row-major equivalent.
    public func densified() -> [Float] {
        var dense = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for k in Int(rowStarts[r])..<Int(rowStarts[r + 1]) { dense[r * columns + Int(columnIndices[k])] = values[k] }
        }
        return dense
    }

    /// `pieces` contiguous row ranges with about equal numbers of nonzeros (for splitting work).
    func balancedRowRanges(_ pieces: Int) -> [Range<Int>] {
        guard pieces > 1, nonzeroCount > 0 else { return [0..<rows] }
        var ranges: [Range<Int>] = []
        var start = 0
        for piece in 1...pieces {
            let target = Int32((Int64(nonzeroCount) * Int64(piece)) / Int64(pieces))
            var end = start
            while end < rows && rowStarts[end + 1] <= target { end += 1 }
            if piece == pieces { end = rows }
            ranges.append(start..<end)
            start = end
        }
        return ranges.filter { !$0.isEmpty }
    }
}
