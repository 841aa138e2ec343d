import CCPUDispatch

/// Winograd convolution F(m×m, 3×3) forward and backward, dense (see `WinogradTransform`).
///
/// Layouts (legend of `Conv2DGeometry`; p = ξ·n + ν indexes the n² tile positions; t indexes the
/// tiles of all images, t = (image·tilesH + ti)·tilesW + tj, padded to a multiple of 16 as T):
/// - V [n²][C][T]: transformed input; the tile transforms run on 16 tiles per SIMD lane group.
/// - Q [n²][K][C]: Winograd-domain weights, position-major.
/// - M [n²][K][T] = Q[p] · V[p], one GEMM per position; then Y = Aᵀ M A per tile.
/// Tiles along the bottom and right edges are cropped. Stride 1, dilation 1 only.
public struct WinogradPlan: Sendable {
    public let geometry: Conv2DGeometry
    public let transform: WinogradTransform
    public let tilesHigh: Int, tilesWide: Int
    /// Tiles of all images, and that count rounded up to a multiple of 16 (the row length of V and M).
    public let tiles: Int, paddedTiles: Int
    /// The zero-padded input plane, extended to whole tiles.
    let paddedHeight: Int, paddedWidth: Int

    /// The ISA level of the tile transforms: F(4×4) runs dispatched C from AVX2 up (tests lower it to
    /// reach the Swift twin).
    public let level: CPU.ISALevel

    public init(_ g: Conv2DGeometry, transform t: WinogradTransform, level: CPU.ISALevel = CPU.isa) {
        self.level = level
        checkArgument(Conv2DWinograd.supports(g), "Winograd convolution needs a 3×3, stride-1, dilation-1 geometry, got \(g)")
        geometry = g
        transform = t
        tilesHigh = (g.outHeight + t.m - 1) / t.m
        tilesWide = (g.outWidth + t.m - 1) / t.m
        tiles = g.batch * tilesHigh * tilesWide
        paddedTiles = (tiles + 15) / 16 * 16
        paddedHeight = tilesHigh * t.m + 2
        paddedWidth = tilesWide * t.m + 2
    }

    public var positions: Int { transform.n * transform.n }
    /// Floats in V (and, with K for C, in M).
    public func transformedCount(channels: Int) -> Int { positions * channels * paddedTiles }
    var paddedPlane: Int { paddedHeight * paddedWidth }

    /// The plan as the dispatched C kernels take it, where they run: F(4×4) on an AVX2 CPU (nil
    /// elsewhere: the Swift transforms run).
    func dispatchedF4x3(padded: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>?) -> coppice_winograd_geometry? {
        guard transform == .f4x3, coppice_sparse_winograd_available(Int32(level.rawValue)) != 0 else { return nil }
        let g = geometry
        return coppice_winograd_geometry(
            padded: padded, output: output, channels: g.inChannels, filters: g.outChannels, paddedHeight: paddedHeight,
            paddedWidth: paddedWidth, outHeight: g.outHeight, outWidth: g.outWidth, tilesHigh: tilesHigh, tilesWide: tilesWide,
            tiles: tiles)
    }

    /// Where the 16 tiles of a block start: offsets (within a padded image stack) and output origins.
    @inline(__always)
    func lanes(ofBlock block: Int, channels: Int) -> (input: [Int], image: [Int], row: [Int], column: [Int]) {
        var input = [Int](repeating: 0, count: 16), image = input, row = input, column = input
        let perImage = tilesHigh * tilesWide
        for l in 0..<16 {
            let t = Swift.min(block * 16 + l, tiles - 1)
            let (i, r) = (t / perImage, t % perImage)
            image[l] = i
            row[l] = (r / tilesWide) * transform.m
            column[l] = (r % tilesWide) * transform.m
            input[l] = i * channels * paddedPlane + row[l] * paddedWidth + column[l]
        }
        return (input, image, row, column)
    }
}
