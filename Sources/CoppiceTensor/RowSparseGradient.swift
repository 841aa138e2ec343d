/// The gradient of an embedding table as the rows a batch touched: row `indices[i]` of the full
/// gradient gets `values[i, :]` (indices may repeat; their rows add). Optimizers read and write only
/// these rows, so a step costs O(batch · d) whatever the table's size.
public struct RowSparseGradient: Sendable {
    public var rowCount: Int
    public var dimension: Int
    public var indices: [Int]
    public var values: [Float]

    public init(rowCount: Int, dimension: Int, indices: [Int] = [], values: [Float] = []) {
        self.rowCount = rowCount
        self.dimension = dimension
        self.indices = indices
        self.values = values
    }

    /// Each touched row once, in ascending order, with repeated rows summed.
    public func coalesced() -> (rows: [Int], values: [Float]) {
        // Positions sorted by (row, position), packed in one integer key: repeated rows add in their
        // original order, and sorting a batch's few hundred keys costs far less than hashing them.
        let n = indices.count
        let keys = indices.enumerated().map { $0.element * n + $0.offset }.sorted()
        var rows: [Int] = []
        rows.reserveCapacity(n)
        var summed = [Float](repeating: 0, count: n * dimension)
        values.withUnsafeBufferPointer { source in
            summed.withUnsafeMutableBufferPointer { target in
                for key in keys {
                    let (row, position) = key.quotientAndRemainder(dividingBy: n)
                    if rows.last != row { rows.append(row) }
                    let t = (rows.count - 1) * dimension, s = position * dimension
                    for c in 0..<dimension { target[t + c] += source[s + c] }
                }
            }
        }
        summed.removeLast((n - rows.count) * dimension)
        return (rows, summed)
    }

    /// The dense [rowCount, dimension] equivalent.
    public func densified() -> Tensor {
        var dense = Tensor.zeros([rowCount, dimension])
        dense.withUnsafeMutableBufferPointer { d in
            for (i, index) in indices.enumerated() {
                for c in 0..<dimension { d[index * dimension + c] += values[i * dimension + c] }
            }
        }
        return dense
    }
}
