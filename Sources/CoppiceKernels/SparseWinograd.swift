/// Sparse Winograd convolution: the Winograd-domain weights Q of a pruned layer, stored as one CSR
/// matrix [K × C] per tile position, so the n² products M[p] = Q[p] · V[p] touch only nonzeros
/// (Li, Park & Tang 2017; Yu, Park & Naumov 2019). The transforms are those of `Conv2DWinograd`.
public struct SparseWinogradWeights: Sendable, Equatable {
    public let transform: WinogradTransform
    public let outChannels: Int, inChannels: Int
    /// Q[p] for p = ξ·n + ν.
    public let positions: [CSRMatrix]

    /// From dense Winograd-domain weights q [n²][K][C]; exact zeros are dropped.
    public init(winogradWeights q: UnsafePointer<Float>, outChannels k: Int, inChannels c: Int, transform: WinogradTransform) {
        self.transform = transform
        outChannels = k
        inChannels = c
        positions = (0..<(transform.n * transform.n)).map { CSRMatrix(dense: q + $0 * k * c, rows: k, columns: c) }
    }

    public var nonzeroCount: Int { positions.reduce(0) { $0 + $1.nonzeroCount } }
    public var elementCount: Int { positions.count * outChannels * inChannels }
    /// The fraction of exact zeros in Q.
    public var sparsity: Double { 1 - Double(nonzeroCount) / Double(Swift.max(elementCount, 1)) }
    public var byteCount: Int { positions.reduce(0) { $0 + $1.byteCount } }

    /// Q densified to [n²][K][C].
    public func densified() -> [Float] { positions.flatMap { $0.densified() } }
}

extension Conv2DWinograd {
    /// y = conv(x, Q) + bias with sparse Winograd-domain weights; the positions' products are spread
    /// over the pool's threads.
    public static func forward(
        _ x: UnsafePointer<Float>, sparseWeights q: SparseWinogradWeights, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, _ plan: WinogradPlan, pool: ThreadPool = .shared
    ) {
        checkArgument(
            q.transform == plan.transform && q.outChannels == plan.geometry.outChannels && q.inChannels == plan.geometry.inChannels,
            "sparse Winograd weights for F(\(q.transform.m)×\(q.transform.m),3×3) \(q.outChannels)×\(q.inChannels) do not fit \(plan.geometry)")
        let (k, c) = (q.outChannels, q.inChannels)
        forward(x, bias: bias, y, plan, savedInput: nil, pool: pool) { v, mt, tiles, rowLength in
            // Whole vectors of 16 tiles (8 where there are no more, as on an 8×8 map at batch 1): the
            // padding columns hold copies of a real tile (finite) and are never read back, and a scalar
            // tail would cost more than they do.
            let columns = tiles <= 8 ? Swift.min(rowLength, 8) : Swift.min(rowLength, (tiles + 15) / 16 * 16)
            pool.parallelFor(q.positions.count) { p in
                SparseProduct.spmmRows(
                    q.positions[p], 0..<k, v + p * c * rowLength, ldx: rowLength,
                    mt + p * k * rowLength, ldy: rowLength, columns: columns)
            }
        }
    }
}
