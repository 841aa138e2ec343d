/// Winograd convolution F(m×m, 3×3): Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
/// Networks"; the matrices are those of Yu, Park & Naumov 2019's code (see shared/docs/papers.md §1.3:
/// F(4×4,3×3) with the ¼ moved into G, and F(2×2,3×3)).
///
/// Legend (see `Conv2DGeometry`): n = m + 2 is the input tile size; the zero-padded input is cut into
/// overlapping n×n tiles with stride m. Per tile V = Bᵀ d B, per filter U = G w Gᵀ (the Winograd-domain
/// weight Q), and for each of the n² tile positions (ξ, ν) one GEMM M[ξν] = U[ξν] (K×C) · V[ξν] (C×tiles)
/// over all tiles of all images; then Y = Aᵀ M A per tile, cropped to P×Q. Stride 1, dilation 1.
public struct WinogradTransform: Sendable, Equatable {
    /// Output tile size m; the input tile is n = m + 2.
    public let m: Int
    public var n: Int { m + 2 }
    /// G [n × 3], Bᵀ [n × n], Aᵀ [m × n], row-major.
    public let G: [Float], BT: [Float], AT: [Float]

    /// F(2×2, 3×3): 4×4 tiles.
    public static let f2x3 = WinogradTransform(
        m: 2,
        G: [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1],
        BT: [1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1],
        AT: [1, 1, 1, 0, 0, 1, -1, -1])

    /// F(4×4, 3×3): 6×6 tiles.
    public static let f4x3 = WinogradTransform(
        m: 4,
        G: [1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1],
        BT: [4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0,
             0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1],
        AT: [1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0, 0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1])

    /// U = G w Gᵀ for one 3×3 filter (w row-major), written to `u` [n × n].
    public func weightTile(_ w: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>) {
        var gw = [Float](repeating: 0, count: n * 3)      // G w: [n × 3]
        for i in 0..<n { for j in 0..<3 { for k in 0..<3 { gw[i * 3 + j] += G[i * 3 + k] * w[k * 3 + j] } } }
        for i in 0..<n {
            for j in 0..<n {
                var s: Float = 0
                for k in 0..<3 { s += gw[i * 3 + k] * G[j * 3 + k] }
                u[i * n + j] = s
            }
        }
    }

    /// V = Bᵀ d B for one n×n input tile read with row stride `stride`, written to `v` [n × n].
    func inputTile(_ d: UnsafePointer<Float>, stride: Int, _ v: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        for i in 0..<n {          // scratch = Bᵀ d
            for j in 0..<n {
                var s: Float = 0
                for k in 0..<n where BT[i * n + k] != 0 { s += BT[i * n + k] * d[k * stride + j] }
                scratch[i * n + j] = s
            }
        }
        for i in 0..<n {          // v = scratch B
            for j in 0..<n {
                var s: Float = 0
                for k in 0..<n where BT[j * n + k] != 0 { s += scratch[i * n + k] * BT[j * n + k] }
                v[i * n + j] = s
            }
        }
    }

    /// Y = Aᵀ M A for one tile: `mt` [n × n] in, `y` [m × m] out.
    func outputTile(_ mt: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        for i in 0..<m {          // scratch = Aᵀ M: [m × n]
            for j in 0..<n {
                var s: Float = 0
                for k in 0..<n where AT[i * n + k] != 0 { s += AT[i * n + k] * mt[k * n + j] }
                scratch[i * n + j] = s
            }
        }
        for i in 0..<m {
            for j in 0..<m {
                var s: Float = 0
                for k in 0..<n where AT[j * n + k] != 0 { s += scratch[i * n + k] * AT[j * n + k] }
                y[i * m + j] = s
            }
        }
    }
}

public enum Conv2DWinograd {
    public static func supports(_ g: Conv2DGeometry) -> Bool {
        g.isValid && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 &&
            g.dilationH == 1 && g.dilationW == 1
    }

    /// The Winograd-domain weights Q = G w Gᵀ, laid out position-major: q[(ξ·n + ν)·K·C + k·C + c].
    public static func transformWeights(_ w: UnsafePointer<Float>, outChannels k: Int, inChannels c: Int,
                                        _ t: WinogradTransform, _ q: UnsafeMutablePointer<Float>) {
        let positions = t.n * t.n
        var tile = [Float](repeating: 0, count: positions)
        for filter in 0..<(k * c) {
            t.weightTile(w + filter * 9, &tile)
            for p in 0..<positions { q[p * k * c + filter] = tile[p] }
        }
    }

    /// y = conv(x, w) + bias through the Winograd domain.
    ///
    /// Layouts keep every pass streaming: Vᵀ[pos][tile][channel] is written a tile at a time for all
    /// channels, the n² GEMMs compute Mᵀ[pos] = Vᵀ[pos] · U[pos]ᵀ (tiles × K), and the output pass reads
    /// the n² rows of one tile for all filters at once.
    public static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               _ y: UnsafeMutablePointer<Float>, _ g: Conv2DGeometry, transform t: WinogradTransform,
                               pool: ThreadPool = .shared) {
        checkArgument(supports(g), "Winograd convolution needs a 3×3, stride-1, dilation-1 geometry, got \(g)")
        let (n, m) = (t.n, t.m)
        let positions = n * n
        let (tilesH, tilesW) = ((g.outHeight + m - 1) / m, (g.outWidth + m - 1) / m)
        let tilesPerImage = tilesH * tilesW
        let tiles = g.batch * tilesPerImage
        let (c, k) = (g.inChannels, g.outChannels)
        let q = ScratchBuffer(count: positions * k * c)
        transformWeights(w, outChannels: k, inChannels: c, t, q.pointer)
        let vT = ScratchBuffer(count: positions * tiles * c)
        let mT = ScratchBuffer(count: positions * tiles * k)
        // Each image's channels, zero-padded and extended to whole tiles.
        let paddedH = tilesH * m + 2, paddedW = tilesW * m + 2
        let planeSize = paddedH * paddedW
        let vp = vT.pointer, mp = mT.pointer, qp = q.pointer
        pool.parallelRanges(g.batch, grain: 1) { images in
            let planes = UnsafeMutablePointer<Float>.allocate(capacity: c * planeSize + 2 * positions)
            defer { planes.deallocate() }
            let tile = planes + c * planeSize, scratch = tile + positions
            for image in images {
                planes.update(repeating: 0, count: c * planeSize)
                for channel in 0..<c {
                    for h in 0..<g.height {
                        (planes + channel * planeSize + (h + g.padH) * paddedW + g.padW)
                            .update(from: x + ((image * c + channel) * g.height + h) * g.width, count: g.width)
                    }
                }
                for ti in 0..<tilesH {
                    for tj in 0..<tilesW {
                        let column = image * tilesPerImage + ti * tilesW + tj
                        for channel in 0..<c {
                            t.inputTile(planes + channel * planeSize + ti * m * paddedW + tj * m, stride: paddedW, tile, scratch)
                            for p in 0..<positions { vp[(p * tiles + column) * c + channel] = tile[p] }
                        }
                    }
                }
            }
        }
        for p in 0..<positions {
            Gemm.compute(.none, .transposed, m: tiles, n: k, k: c, vp + p * tiles * c, lda: c, qp + p * k * c, ldb: c,
                         mp + p * tiles * k, ldc: k, pool: pool)
        }
        pool.parallelRanges(g.batch, grain: 1) { images in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: positions * k + positions + m * m + m * n)
            defer { buffer.deallocate() }
            let rows = buffer, tile = rows + positions * k, out = tile + positions, scratch = out + m * m
            for image in images {
                for ti in 0..<tilesH {
                    for tj in 0..<tilesW {
                        let column = image * tilesPerImage + ti * tilesW + tj
                        for p in 0..<positions { (rows + p * k).update(from: mp + (p * tiles + column) * k, count: k) }
                        for filter in 0..<k {
                            for p in 0..<positions { tile[p] = rows[p * k + filter] }
                            t.outputTile(tile, out, scratch)
                            let add = bias?[filter] ?? 0
                            for i in 0..<min(m, g.outHeight - ti * m) {
                                let dst = y + ((image * k + filter) * g.outHeight + ti * m + i) * g.outWidth + tj * m
                                for j in 0..<min(m, g.outWidth - tj * m) { dst[j] = out[i * m + j] + add }
                            }
                        }
                    }
                }
            }
        }
        withExtendedLifetime((q, vT, mT)) {}
    }
}
