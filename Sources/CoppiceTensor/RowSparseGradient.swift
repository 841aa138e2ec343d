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
        var slot: [Int: Int] = [:]
        var rows: [Int] = []
        for index in indices where slot[index] == nil {
            slot[index] = rows.count
            rows.append(index)
        }
        var order = Array(rows.indices)
        order.sort { rows[$0] < rows[$1] }
        var rank = [Int](repeating: 0, count: rows.count)
        for (position, original) in order.enumerated() { rank[original] = position }
        var summed = [Float](repeating: 0, count: rows.count * dimension)
        for (i, index) in indices.enumerated() {
            let target = rank[slot[index]!] * dimension
            for c in 0..<dimension { summed[target + c] += values[i * dimension + c] }
        }
        return (order.map { rows[$0] }, summed)
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
