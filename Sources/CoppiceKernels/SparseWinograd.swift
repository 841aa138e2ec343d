import CCPUDispatch

/// Sparse Winograd convolution: the Winograd-domain weights Q of a pruned layer, stored as one CSR
/// matrix [K × C] per tile position, so the n² products M[p] = Q[p] · V[p] touch only nonzeros
/// (Li, Park & Tang 2017; Yu, Park & Naumov 2019). The transforms are those of `Conv2DWinograd`.
public struct SparseWinogradWeights: Sendable, Equatable {
    public let transform: WinogradTransform
    public let outChannels: Int, inChannels: Int
    /// Q[p] for p = ξ·n + ν.
    public let positions: [CSRMatrix]
    /// The same nonzeros filter-major, for the fused kernel: those of filter k at position p are
    /// `filterValues`/`filterColumns`[filterStarts[k·n² + p] ..< filterStarts[k·n² + p + 1]].
    let filterStarts: [Int32], filterColumns: [Int32], filterValues: [Float]

    /// From dense Winograd-domain weights q [n²][K][C]; exact zeros are dropped.
    public init(winogradWeights q: UnsafePointer<Float>, outChannels k: Int, inChannels c: Int, transform: WinogradTransform) {
        self.transform = transform
        outChannels = k
        inChannels = c
        let positionCount = transform.n * transform.n
        positions = (0..<positionCount).map { CSRMatrix(dense: q + $0 * k * c, rows: k, columns: c) }
        var starts: [Int32] = [0], columns: [Int32] = [], values: [Float] = []
        for filter in 0..<k {
            for p in 0..<positionCount {
                let row = q + (p * k + filter) * c
                for channel in 0..<c where row[channel] != 0 {
                    columns.append(Int32(channel))
                    values.append(row[channel])
                }
                starts.append(Int32(values.count))
            }
        }
        (filterStarts, filterColumns, filterValues) = (starts, columns, values)
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
    /// y = conv(x, Q) + bias (then ReLU where `relu`) with sparse Winograd-domain weights. F(4×4,3×3)
    /// on an AVX2 CPU runs the fused kernel (`coppice_sparse_winograd_*`); otherwise the transforms
    /// of the dense path run around per-position CSR products. `level` caps the ISA (tests run both).
    public static func forward(
        _ x: UnsafePointer<Float>, sparseWeights q: SparseWinogradWeights, bias: UnsafePointer<Float>?, relu: Bool = false,
        _ y: UnsafeMutablePointer<Float>, _ plan: WinogradPlan, level isa: CPU.ISALevel = CPU.isa, pool: ThreadPool = .shared
    ) {
        checkArgument(
            q.transform == plan.transform && q.outChannels == plan.geometry.outChannels && q.inChannels == plan.geometry.inChannels,
            "sparse Winograd weights for F(\(q.transform.m)×\(q.transform.m),3×3) \(q.outChannels)×\(q.inChannels) do not fit \(plan.geometry)")
        let level = Int32(isa.rawValue)
        if q.transform == .f4x3 && coppice_sparse_winograd_available(level) != 0 {
            return fusedForward(x, q, bias: bias, relu: relu, y, plan, level: level, pool: pool)
        }
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
        if relu { Elementwise.unary(.relu, y, y, count: plan.geometry.batch * k * plan.geometry.outPlane, pool: pool) }
    }

    /// The fused kernel over blocks of 8·w tiles (w vectors of one tile a lane). With enough blocks
    /// each thread transforms and multiplies whole blocks; with few (batch 1) the input transform is
    /// split over channels and the products over filters, so both threads work on a 14×14 map.
    static func fusedForward(
        _ x: UnsafePointer<Float>, _ q: SparseWinogradWeights, bias: UnsafePointer<Float>?, relu: Bool,
        _ y: UnsafeMutablePointer<Float>, _ plan: WinogradPlan, level: Int32, pool: ThreadPool
    ) {
        let g = plan.geometry
        let (k, c) = (g.outChannels, g.inChannels)
        // The widest block (8·w tiles) that pads the tiles by at most 35%: each nonzero's index and value
        // then serve w vectors (one thread, 64→64 14×14 batch 1: 16 tiles as w = 2, 0.059 ms; as two
        // blocks of w = 1, 0.080 ms; 28×28 batch 1: 49 tiles as w = 4, 0.064 ms, as w = 1, 0.077 ms).
        let w =
            [4, 2, 1].first { (w: Int) -> Bool in
                let lanes: Int = (plan.tiles + 8 * w - 1) / (8 * w) * (8 * w)
                return lanes * 100 <= plan.tiles * 135
            } ?? 1
        let blocks = (plan.tiles + 8 * w - 1) / (8 * w), blockFloats = coppice_sparse_winograd_block_floats(c, Int32(w))
        // The kernel reads each input row 8 floats wide: 2 past the last window.
        let padded = padInput(x, plan, slack: 8, pool: pool)
        var geometry = coppice_winograd_geometry(
            padded: padded.pointer, output: y, channels: c, filters: k, paddedHeight: plan.paddedHeight, paddedWidth: plan.paddedWidth,
            outHeight: g.outHeight, outWidth: g.outWidth, tilesHigh: plan.tilesHigh, tilesWide: plan.tilesWide, tiles: plan.tiles)
        q.filterStarts.withUnsafeBufferPointer { starts in
            q.filterColumns.withUnsafeBufferPointer { columns in
                q.filterValues.withUnsafeBufferPointer { values in
                    var weights = coppice_sparse_winograd_weights(
                        starts: starts.baseAddress, columns: columns.baseAddress, values: values.baseAddress, bias: bias, relu: relu ? 1 : 0)
                    withUnsafePointer(to: &geometry) { geometry in
                        withUnsafePointer(to: &weights) { weights in
                            if blocks >= 4 * pool.threadCount {
                                pool.parallelRanges(blocks, grain: 1) { range in
                                    let v = ScratchBuffer(count: blockFloats)
                                    let m = ScratchBuffer(count: coppice_sparse_winograd_scratch(Int32(w), k))
                                    for block in range {
                                        coppice_sparse_winograd_input(level, geometry, block, Int32(w), 0, c, v.pointer)
                                        coppice_sparse_winograd_filters(level, geometry, weights, block, Int32(w), 0, k, v.pointer, m.pointer)
                                    }
                                }
                                return
                            }
                            let v = ScratchBuffer(count: blocks * blockFloats)
                            let split = Swift.max(1, (2 * pool.threadCount + blocks - 1) / blocks)
                            let (channelParts, filterParts) = (Swift.min(split, c), Swift.min(split, k))
                            pool.parallelFor(blocks * channelParts) { task in
                                let (block, part) = task.quotientAndRemainder(dividingBy: channelParts)
                                let channels = ThreadPool.range(of: part, in: channelParts, count: c)
                                coppice_sparse_winograd_input(
                                    level, geometry, block, Int32(w), channels.lowerBound, channels.count, v.pointer + block * blockFloats)
                            }
                            pool.parallelFor(blocks * filterParts) { task in
                                let (block, part) = task.quotientAndRemainder(dividingBy: filterParts)
                                let filters = ThreadPool.range(of: part, in: filterParts, count: k)
                                let m = ScratchBuffer(count: coppice_sparse_winograd_scratch(Int32(w), filters.count))
                                coppice_sparse_winograd_filters(
                                    level, geometry, weights, block, Int32(w), filters.lowerBound, filters.count, v.pointer + block * blockFloats,
                                    m.pointer)
                            }
                        }
                    }
                }
            }
        }
        withExtendedLifetime(padded) {}
    }
}
