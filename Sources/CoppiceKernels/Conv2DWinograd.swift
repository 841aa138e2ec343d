import CCPUDispatch

public enum Conv2DWinograd {
    public static func supports(_ g: Conv2DGeometry) -> Bool {
        g.isValid && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
    }

    /// Q = G w Gᵀ for every filter of w [K][C][3][3], written position-major to q [n²][K][C].
    /// Q = G w Gᵀ for every filter of w [K][C][3][3], written position-major to q [n²][K][C];
    /// 16 filters per SIMD lane group.
    public static func transformWeights(
        _ w: UnsafePointer<Float>, outChannels k: Int, inChannels c: Int,
        _ t: WinogradTransform, _ q: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        let filters = k * c, positions = t.n * t.n
        let transform = t.weightTransform
        pool.parallelRanges((filters + 15) / 16, grain: 64) { blocks in
            let buffer = UnsafeMutablePointer<FloatVector>.allocate(capacity: 9 + positions + 3 * t.n)
            defer { buffer.deallocate() }
            let tile = buffer, out = buffer + 9, scratch = out + positions
            let lanes = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: Float.self)
            for block in blocks {
                let live = Swift.min(16, filters - block * 16)
                for l in 0..<16 {
                    let filter = w + (block * 16 + Swift.min(l, live - 1)) * 9
                    for i in 0..<9 { lanes[i &* 16 &+ l] = filter[i] }
                }
                transform.apply(tile, out, scratch: scratch)
                for p in 0..<positions {
                    let dst = q + p * filters + block * 16
                    if live == 16 { store(out[p], dst) } else { for l in 0..<live { dst[l] = out[p][l] } }
                }
            }
        }
    }

    /// ∂L/∂w [K][C][3][3] from ∂L/∂Q [n²][K][C]: the pullback of `transformWeights`, Gᵀ (∂L/∂Q) G.
    public static func weightGradient(
        _ dq: UnsafePointer<Float>, outChannels k: Int, inChannels c: Int,
        _ t: WinogradTransform, _ dw: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        let filters = k * c, positions = t.n * t.n
        let transform = t.weightGradientTransform
        pool.parallelRanges((filters + 15) / 16, grain: 64) { blocks in
            let buffer = UnsafeMutablePointer<FloatVector>.allocate(capacity: positions + 9 + 3 * t.n)
            defer { buffer.deallocate() }
            let tile = buffer, out = buffer + positions, scratch = out + 9
            for block in blocks {
                let live = Swift.min(16, filters - block * 16)
                for p in 0..<positions {
                    let src = dq + p * filters + block * 16
                    if live == 16 {
                        tile[p] = load(src)
                    } else {
                        tile[p] = FloatVector()
                        for l in 0..<live { tile[p][l] = src[l] }
                    }
                }
                transform.apply(tile, out, scratch: scratch)
                for l in 0..<live {
                    let filter = dw + (block * 16 + l) * 9
                    for i in 0..<9 { filter[i] = out[i][l] }
                }
            }
        }
    }

    /// x [N][C][H][W] zero-padded and extended to whole tiles: [N][C][paddedHeight][paddedWidth],
    /// then `slack` zeros.
    static func padInput(_ x: UnsafePointer<Float>, _ plan: WinogradPlan, slack: Int = 0, pool: ThreadPool) -> ScratchBuffer {
        let g = plan.geometry
        let padded = ScratchBuffer(count: g.batch * g.inChannels * plan.paddedPlane + slack)
        (padded.pointer + padded.count - slack).update(repeating: 0, count: slack)
        let xp = padded.pointer
        // Small inputs (a 14×14 map at batch 1) are padded inline: handing them to the pool costs more.
        pool.parallelRanges(g.batch * g.inChannels, grain: Swift.max(1, Elementwise.parallelGrain / plan.paddedPlane)) { planes in
            for plane in planes {
                let dst = xp + plane * plan.paddedPlane
                dst.update(repeating: 0, count: plan.paddedPlane)
                for h in 0..<g.height {
                    (dst + (h + g.padH) * plan.paddedWidth + g.padW).update(from: x + (plane * g.height + h) * g.width, count: g.width)
                }
            }
        }
        return padded
    }

    /// V = Bᵀ d B for the tiles of `blocks` (16 tiles each) and every input channel, from the padded
    /// input: v [n²][C][rowLength], tile t in column t − columnBase.
    static func transformInput(
        padded xp: UnsafePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ plan: WinogradPlan,
        blocks: Range<Int>, rowLength: Int, columnBase: Int, pool: ThreadPool
    ) {
        if let geometry = plan.dispatchedF4x3(padded: xp, output: nil) {
            let channels = plan.geometry.inChannels
            splitBlocks(blocks, across: channels, pool: pool) { block, range in
                var g = geometry
                coppice_winograd_f4x3_input16(
                    Int32(plan.level.rawValue), &g, block, range.lowerBound, range.count, v + block * 16 - columnBase, rowLength)
            }
            return
        }
        let n = plan.transform.n, c = plan.geometry.inChannels
        let transform = plan.transform.inputTransform
        let (positions, width, planeSize) = (n * n, plan.paddedWidth, plan.paddedPlane)
        pool.parallelRanges(blocks.count, grain: 1) { range in
            let buffer = UnsafeMutablePointer<FloatVector>.allocate(capacity: 3 * positions)
            defer { buffer.deallocate() }
            let d = buffer, out = buffer + positions, scratch = out + positions
            let lanes = UnsafeMutableRawPointer(d).assumingMemoryBound(to: Float.self)
            for block in (blocks.lowerBound + range.lowerBound)..<(blocks.lowerBound + range.upperBound) {
                let offsets = plan.lanes(ofBlock: block, channels: c).input
                for channel in 0..<c {
                    let base = xp + channel * planeSize
                    // A transposition: lane l's tile is n rows of n contiguous floats.
                    offsets.withUnsafeBufferPointer { offsets in
                        for l in 0..<16 {
                            let tile = base + offsets[l]
                            for a in 0..<n {
                                for b in 0..<n { lanes[(a &* n &+ b) &* 16 &+ l] = tile[a &* width &+ b] }
                            }
                        }
                    }
                    transform.apply(d, out, scratch: scratch)
                    let dst = v + channel * rowLength + block * 16 - columnBase
                    for p in 0..<positions { store(out[p], dst + p * c * rowLength) }
                }
            }
        }
    }

    /// y [N][K][P][Q] = Aᵀ M A per tile (cropped) + bias for the tiles of `blocks`, from
    /// m [n²][K][rowLength] with tile t in column t − columnBase.
    static func transformOutput(
        _ mt: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
        _ plan: WinogradPlan, blocks: Range<Int>, rowLength: Int, columnBase: Int, pool: ThreadPool
    ) {
        if let geometry = plan.dispatchedF4x3(padded: nil, output: y) {
            splitBlocks(blocks, across: plan.geometry.outChannels, pool: pool) { block, range in
                var g = geometry
                coppice_winograd_f4x3_output16(
                    Int32(plan.level.rawValue), &g, block, range.lowerBound, range.count, mt + block * 16 - columnBase, rowLength, bias)
            }
            return
        }
        let g = plan.geometry, n = plan.transform.n, m = plan.transform.m, k = g.outChannels
        let transform = plan.transform.outputTransform
        let positions = n * n
        pool.parallelRanges(blocks.count, grain: 1) { range in
            let buffer = UnsafeMutablePointer<FloatVector>.allocate(capacity: 3 * positions)
            defer { buffer.deallocate() }
            let tile = buffer, out = buffer + positions, scratch = out + positions
            for block in (blocks.lowerBound + range.lowerBound)..<(blocks.lowerBound + range.upperBound) {
                let lanes = plan.lanes(ofBlock: block, channels: k)
                let live = Swift.min(16, plan.tiles - block * 16)
                for filter in 0..<k {
                    let src = mt + filter * rowLength + block * 16 - columnBase
                    for p in 0..<positions { tile[p] = load(src + p * k * rowLength) }
                    transform.apply(tile, out, scratch: scratch)
                    let add = FloatVector(repeating: bias?[filter] ?? 0)
                    for i in 0..<(m * m) { out[i] += add }
                    let values = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self)
                    let outWidth = g.outWidth
                    for l in 0..<live {
                        let dst = y + (lanes.image[l] * k + filter) * g.outPlane + lanes.row[l] * outWidth + lanes.column[l]
                        let (rows, columns) = (Swift.min(m, g.outHeight - lanes.row[l]), Swift.min(m, outWidth - lanes.column[l]))
                        if rows == 4 && columns == 4 {
                            for i in 0..<4 {
                                let line = dst + i &* outWidth, src = values + (i &* 64 &+ l)
                                line[0] = src[0]; line[1] = src[16]; line[2] = src[32]; line[3] = src[48]
                            }
                        } else {
                            for i in 0..<rows {
                                for j in 0..<columns { dst[i &* outWidth &+ j] = values[(i &* m &+ j) &* 16 &+ l] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body(block, channels)` over `blocks`, each with all of its `count` channels, or, with fewer
    /// blocks than threads (small maps at batch 1: an 8×8 map is one block), each block in channel
    /// ranges so that every thread has a part.
    private static func splitBlocks(
        _ blocks: Range<Int>, across count: Int, pool: ThreadPool, _ body: @escaping (Int, Range<Int>) -> Void
    ) {
        guard blocks.count < pool.threadCount && count > 1 else {
            pool.parallelRanges(blocks.count, grain: 1) { range in
                for block in (blocks.lowerBound + range.lowerBound)..<(blocks.lowerBound + range.upperBound) { body(block, 0..<count) }
            }
            return
        }
        let pieces = Swift.min(pool.threadCount, count)
        pool.parallelFor(blocks.count * pieces) { item in
            body(blocks.lowerBound + item / pieces, ThreadPool.range(of: item % pieces, in: pieces, count: count))
        }
    }

    /// m[p] = q[p] · v[p] for every tile position, over `tiles` columns of rows `rowLength` long. Up to
    /// 16 tiles (small maps at small batches) the narrow product streams Q once instead of having BLAS
    /// pack it for a few columns: F(4×4) at batch 1 on AMD EPYC Zen 3, 256→256 8×8 (4 tiles) 0.73 →
    /// 0.53 ms, 128→128 16×16 (16 tiles) 0.34 → 0.29 ms (`benchmarks/pytorch_conv.py`).
    static func multiply(
        _ q: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ mt: UnsafeMutablePointer<Float>,
        _ plan: WinogradPlan, tiles: Int, rowLength t: Int, pool: ThreadPool
    ) {
        let (k, c) = (plan.geometry.outChannels, plan.geometry.inChannels)
        if tiles <= 16 && CPU.isa >= .avx2 {
            let level = Int32(CPU.isa.rawValue)
            pool.parallelFor(plan.positions) { p in
                coppice_narrow_product(level, k, Int32(tiles), c, q + p * k * c, c, v + p * c * t, t, mt + p * k * t, t)
            }
            return
        }
        Gemm.batched(
            .none, .none, batch: plan.positions, m: k, n: tiles, k: c, q, lda: c, strideA: k * c,
            v, ldb: t, strideB: c * t, mt, ldc: t, strideC: k * t, pool: pool)
    }

    /// Tiles per pass: V and M of one pass stay within about 4 MiB, so they are reread from cache.
    public static func tilesPerPass(_ plan: WinogradPlan) -> Int {
        let bytesPerTile = plan.positions * (plan.geometry.inChannels + plan.geometry.outChannels) * 4
        return Swift.max(16, (4 << 20) / bytesPerTile / 16 * 16)
    }

    /// y = conv(x, Q) + bias with Winograd-domain weights q [n²][K][C]. With `savedInput`, the whole
    /// of V is kept there for the backward pass (`transformedCount(channels: C)` floats); otherwise
    /// the tiles go through in passes that stay in cache.
    public static func forward(
        _ x: UnsafePointer<Float>, winogradWeights q: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, _ plan: WinogradPlan,
        savedInput: UnsafeMutablePointer<Float>? = nil, pool: ThreadPool = .shared
    ) {
        forward(x, bias: bias, y, plan, savedInput: savedInput, pool: pool) { v, mt, tiles, rowLength in
            multiply(q, v, mt, plan, tiles: tiles, rowLength: rowLength, pool: pool)
        }
    }

    /// The forward pass around a Winograd-domain product `multiply(v, m, tiles, rowLength)`.
    static func forward(
        _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ plan: WinogradPlan,
        savedInput: UnsafeMutablePointer<Float>?, pool: ThreadPool,
        multiply: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void
    ) {
        let g = plan.geometry
        // The dispatched F(4×4) transforms read each input row 8 floats wide: 2 past the last window.
        let padded = padInput(x, plan, slack: 8, pool: pool)
        let pass = savedInput == nil ? Swift.min(tilesPerPass(plan), plan.paddedTiles) : plan.paddedTiles
        let ownV = savedInput == nil ? ScratchBuffer(count: plan.positions * g.inChannels * pass) : nil
        let v = savedInput ?? ownV!.pointer
        let mBuffer = ScratchBuffer(count: plan.positions * g.outChannels * pass)
        for start in stride(from: 0, to: plan.paddedTiles, by: pass) {
            let blocks = (start / 16)..<(Swift.min(start + pass, plan.paddedTiles) / 16)
            transformInput(padded: padded.pointer, v, plan, blocks: blocks, rowLength: pass, columnBase: start, pool: pool)
            multiply(v, mBuffer.pointer, Swift.min(pass, plan.tiles - start), pass)
            transformOutput(mBuffer.pointer, bias: bias, y, plan, blocks: blocks, rowLength: pass, columnBase: start, pool: pool)
        }
        withExtendedLifetime((padded, ownV, mBuffer)) {}
    }

    /// y = conv(x, w) + bias for spatial weights w [K][C][3][3], through the Winograd domain.
    public static func forward(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, transform t: WinogradTransform,
        pool: ThreadPool = .shared
    ) {
        let plan = WinogradPlan(g, transform: t)
        let q = ScratchBuffer(count: plan.positions * g.outChannels * g.inChannels)
        transformWeights(w, outChannels: g.outChannels, inChannels: g.inChannels, t, q.pointer)
        forward(x, winogradWeights: q.pointer, bias: bias, y, plan, pool: pool)
        withExtendedLifetime(q) {}
    }

    /// The backward pass of `forward(_:winogradWeights:...)`: from ∂L/∂y, the saved V and Q, writes
    /// ∂L/∂x [N][C][H][W] and ∂L/∂Q [n²][K][C] where asked.
    public static func backward(
        _ dy: UnsafePointer<Float>, winogradWeights q: UnsafePointer<Float>, savedInput v: UnsafePointer<Float>,
        _ plan: WinogradPlan, inputGradient dx: UnsafeMutablePointer<Float>?,
        weightGradient dq: UnsafeMutablePointer<Float>?, pool: ThreadPool = .shared
    ) {
        let g = plan.geometry
        let (k, c, t) = (g.outChannels, g.inChannels, plan.paddedTiles)
        let dm = ScratchBuffer(count: plan.transformedCount(channels: k))
        transformOutputGradient(dy, dm.pointer, plan, pool: pool)
        if let dq {
            Gemm.batched(
                .none, .transposed, batch: plan.positions, m: k, n: c, k: plan.tiles, dm.pointer, lda: t, strideA: k * t,
                v, ldb: t, strideB: c * t, dq, ldc: c, strideC: k * c, pool: pool)
        }
        if let dx {
            let dv = ScratchBuffer(count: plan.transformedCount(channels: c))
            Gemm.batched(
                .transposed, .none, batch: plan.positions, m: c, n: plan.tiles, k: k, q, lda: c, strideA: k * c,
                dm.pointer, ldb: t, strideB: k * t, dv.pointer, ldc: t, strideC: c * t, pool: pool)
            transformInputGradient(dv.pointer, dx, plan, pool: pool)
            withExtendedLifetime(dv) {}
        }
        withExtendedLifetime(dm) {}
    }

    /// ∂L/∂M = A (∂L/∂Y) Aᵀ per tile, with zeros where the tile was cropped or is padding.
    static func transformOutputGradient(
        _ dy: UnsafePointer<Float>, _ dm: UnsafeMutablePointer<Float>, _ plan: WinogradPlan,
        pool: ThreadPool
    ) {
        let g = plan.geometry, n = plan.transform.n, m = plan.transform.m, k = g.outChannels
        let transform = plan.transform.outputGradientTransform
        let (positions, rowLength) = (n * n, plan.paddedTiles)
        pool.parallelRanges(plan.paddedTiles / 16, grain: 1) { blocks in
            let buffer = UnsafeMutablePointer<FloatVector>.allocate(capacity: 3 * positions)
            defer { buffer.deallocate() }
            let tile = buffer, out = buffer + positions, scratch = out + positions
            for block in blocks {
                let lanes = plan.lanes(ofBlock: block, channels: k)
                let live = Swift.min(16, plan.tiles - block * 16)
                for filter in 0..<k {
                    for i in 0..<(m * m) { tile[i] = FloatVector() }
                    for l in 0..<live {
                        let (row, column) = (lanes.row[l], lanes.column[l])
                        let plane = dy + (lanes.image[l] * k + filter) * g.outPlane
                        for i in 0..<Swift.min(m, g.outHeight - row) {
                            let src = plane + (row + i) * g.outWidth + column
                            for j in 0..<Swift.min(m, g.outWidth - column) { tile[i &* m &+ j][l] = src[j] }
                        }
                    }
                    transform.apply(tile, out, scratch: scratch)
                    let dst = dm + filter * rowLength + block * 16
                    for p in 0..<positions { store(out[p], dst + p * k * rowLength) }
                }
            }
        }
    }

    /// ∂L/∂x from ∂L/∂V: B (∂L/∂V) Bᵀ per tile, added into the padded plane (tiles overlap, so each
    /// thread owns whole channels), then cropped.
    static func transformInputGradient(
        _ dv: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ plan: WinogradPlan,
        pool: ThreadPool
    ) {
        let g = plan.geometry, n = plan.transform.n, c = g.inChannels
        let transform = plan.transform.inputGradientTransform
        let (positions, rowLength, width, planeSize) = (n * n, plan.paddedTiles, plan.paddedWidth, plan.paddedPlane)
        let padded = ScratchBuffer(count: g.batch * c * planeSize)
        let xp = padded.pointer
        pool.parallelRanges(c, grain: 1) { channels in
            let buffer = UnsafeMutablePointer<FloatVector>.allocate(capacity: 3 * positions)
            defer { buffer.deallocate() }
            let tile = buffer, out = buffer + positions, scratch = out + positions
            for image in 0..<g.batch {
                for channel in channels { (xp + (image * c + channel) * planeSize).update(repeating: 0, count: planeSize) }
            }
            for block in 0..<(plan.paddedTiles / 16) {
                let offsets = plan.lanes(ofBlock: block, channels: c).input
                let live = Swift.min(16, plan.tiles - block * 16)
                for channel in channels {
                    let src = dv + channel * rowLength + block * 16
                    for p in 0..<positions { tile[p] = load(src + p * c * rowLength) }
                    transform.apply(tile, out, scratch: scratch)
                    let base = xp + channel * planeSize
                    for l in 0..<live {
                        for a in 0..<n {
                            let row = base + offsets[l] + a &* width
                            for b in 0..<n { row[b] += out[a &* n &+ b][l] }
                        }
                    }
                }
            }
        }
        pool.parallelRanges(g.batch * c, grain: 1) { planes in
            for plane in planes {
                for h in 0..<g.height {
                    (dx + (plane * g.height + h) * g.width)
                        .update(from: xp + plane * planeSize + (h + g.padH) * plan.paddedWidth + g.padW, count: g.width)
                }
            }
        }
        withExtendedLifetime(padded) {}
    }
}
