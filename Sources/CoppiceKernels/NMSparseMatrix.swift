/// N of every M consecutive weights along each row kept, packed.
public struct NMSparseMatrix: Sendable, Equatable {
    public let rows: Int, columns: Int, n: Int, m: Int
    /// For row r and group g: values[(r · groups + g) · n + j] at column g · m + positions[...].
    public let values: [Float]
    public let positions: [UInt8]
    public var groups: Int { columns / m }
    /// The same nonzeros as CSR with fixed row lengths: products run on the register-blocked CSR kernel
    /// (a kernel walking the packed form per value measured 3–10× slower here).
    let execution: CSRMatrix

    /// Packs a matrix with at most `n` nonzeros in every group of `m`; returns nil when it has more.
    public init?(dense: UnsafePointer<Float>, rows: Int, columns: Int, n: Int, m: Int) {
        guard n > 0, m > n, m <= 256, columns % m == 0 else { return nil }
        var values = [Float](repeating: 0, count: rows * (columns / m) * n)
        var positions = [UInt8](repeating: 0, count: values.count)
        for r in 0..<rows {
            for g in 0..<(columns / m) {
                var slot = 0
                for j in 0..<m where dense[r * columns + g * m + j] != 0 {
                    guard slot < n else { return nil }
                    values[(r * (columns / m) + g) * n + slot] = dense[r * columns + g * m + j]
                    positions[(r * (columns / m) + g) * n + slot] = UInt8(j)
                    slot += 1
                }
            }
        }
        self.rows = rows; self.columns = columns; self.n = n; self.m = m
        self.values = values; self.positions = positions
        execution = CSRMatrix(
            rows: rows, columns: columns, rowStarts: (0...rows).map { Int32($0 * (columns / m) * n) },
            columnIndices: positions.enumerated().map { Int32((($0.offset / n) % (columns / m)) * m + Int($0.element)) }, values: values)
    }

    public func densified() -> [Float] {
        var dense = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for g in 0..<groups {
                for j in 0..<n {
                    let i = (r * groups + g) * n + j
                    if values[i] != 0 { dense[r * columns + g * m + Int(positions[i])] = values[i] }
                }
            }
        }
        return dense
    }
}
