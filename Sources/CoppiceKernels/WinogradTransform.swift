/// Winograd minimal filtering F(m×m, 3×3): Lavin & Gray 2016, "Fast Algorithms for Convolutional
/// Neural Networks". The matrices are those of Yu, Park & Naumov 2019's code (shared/docs/papers.md
/// §1.3): F(4×4,3×3) with the ¼ moved into G, and F(2×2,3×3) from the author's notes.
///
/// Per filter U = G w Gᵀ (the Winograd-domain weight Q, n×n with n = m + 2), per n×n input tile
/// V = Bᵀ d B, and per m×m output tile Y = Aᵀ (U ⊙ V) A, summed over input channels.
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
        G: [
            1.0 / 4, 0, 0, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, -1.0 / 12, 1.0 / 6, 0, 0, 1,
        ],
        BT: [
            4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0,
            0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1,
        ],
        AT: [1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0, 0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1])

    /// The transform with output tile m (2 or 4).
    public static func outputTile(_ m: Int) -> WinogradTransform? {
        switch m {
        case 2: .f2x3
        case 4: .f4x3
        default: nil
        }
    }

    /// U = G w Gᵀ for one 3×3 filter (w row-major), written to `u` [n × n].
    public func weightTile(_ w: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>) {
        let n = self.n
        for i in 0..<n {
            for j in 0..<n {
                var s: Float = 0
                for a in 0..<3 {
                    var row: Float = 0
                    for b in 0..<3 { row += w[a * 3 + b] * G[j * 3 + b] }
                    s += G[i * 3 + a] * row
                }
                u[i * n + j] = s
            }
        }
    }

    /// The pullback of `weightTile`: ∂L/∂w = Gᵀ (∂L/∂U) G for one filter, written to `dw` [3 × 3].
    public func weightTileGradient(_ du: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>) {
        let n = self.n
        for a in 0..<3 {
            for b in 0..<3 {
                var s: Float = 0
                for i in 0..<n {
                    var row: Float = 0
                    for j in 0..<n { row += du[i * n + j] * G[j * 3 + b] }
                    s += G[i * 3 + a] * row
                }
                dw[a * 3 + b] = s
            }
        }
    }

    /// The importance factor matrix F [n × n] of Yu et al. §1.5: D_xy = a_x·a_y with
    /// a_x = √(Σ_u Aᵀ[u,x]² · Σ_p Bᵀ[x,p]²), the L2 gain from Q_xy to the tile's output, normalised
    /// so that min F = 1.
    public var importanceFactors: [Float] {
        let n = self.n
        let a: [Double] = (0..<n).map { x in
            let outputGain = (0..<m).reduce(0.0) { $0 + Double(AT[$1 * n + x] * AT[$1 * n + x]) }
            let inputGain = (0..<n).reduce(0.0) { $0 + Double(BT[x * n + $1] * BT[x * n + $1]) }
            return (outputGain * inputGain).squareRoot()
        }
        let d = (0..<(n * n)).map { a[$0 / n] * a[$0 % n] }
        let smallest = d.min()!
        return d.map { Float($0 / smallest) }
    }

    /// Which Winograd positions (ξ, ν) of U = G w Gᵀ depend on spatial weight j (row-major 3×3):
    /// `support[p]` lists the spatial indices whose weights all must be zero for U[p] to be exactly 0.
    public var supportSets: [[Int]] {
        let n = self.n
        return (0..<(n * n)).map { p in
            let (i, j) = (p / n, p % n)
            return (0..<9).filter { G[i * 3 + $0 / 3] != 0 && G[j * 3 + $0 % 3] != 0 }
        }
    }

    var weightTransform: LaneTransform { LaneTransform(left: G, rows: n, columns: 3) }
    /// ∂L/∂w = Gᵀ (∂L/∂U) G: the weight transform run backwards.
    var weightGradientTransform: LaneTransform { LaneTransform(left: transposed(G, rows: n, columns: 3), rows: 3, columns: n) }
    var inputTransform: LaneTransform {
        LaneTransform(left: BT, rows: n, columns: n, kernel: self == .f4x3 ? .f4Input : self == .f2x3 ? .f2Input : .general)
    }
    var outputTransform: LaneTransform {
        LaneTransform(left: AT, rows: m, columns: n, kernel: self == .f4x3 ? .f4Output : self == .f2x3 ? .f2Output : .general)
    }
    /// ∂L/∂M = A (∂L/∂Y) Aᵀ: the output transform run backwards.
    var outputGradientTransform: LaneTransform { LaneTransform(left: transposed(AT, rows: m, columns: n), rows: n, columns: m) }
    /// ∂L/∂d = B (∂L/∂V) Bᵀ: the input transform run backwards.
    var inputGradientTransform: LaneTransform { LaneTransform(left: transposed(BT, rows: n, columns: n), rows: n, columns: n) }

    private func transposed(_ a: [Float], rows: Int, columns: Int) -> [Float] {
        (0..<(rows * columns)).map { a[($0 % rows) * columns + $0 / rows] }
    }
}

/// Y = L X Lᵀ applied to 16 tiles at once (one tile per SIMD lane), L [rows × columns]. The hot
/// forward transforms of both tile sizes are written out (Lavin & Gray's factored forms); the others
/// multiply by L with its zeros skipped.
struct LaneTransform: Sendable {
    enum Kernel: Sendable { case f4Input, f4Output, f2Input, f2Output, general }
    let rows: Int, columns: Int
    let kernel: Kernel
    /// Row r's nonzeros of L are entries starts[r]..<starts[r+1] of (columnOf, coefficient).
    let starts: [Int], columnOf: [Int], coefficient: [Float]

    init(left: [Float], rows: Int, columns: Int, kernel: Kernel = .general) {
        self.rows = rows
        self.columns = columns
        self.kernel = kernel
        var starts = [0], columnOf: [Int] = [], coefficient: [Float] = []
        for r in 0..<rows {
            for c in 0..<columns where left[r * columns + c] != 0 {
                columnOf.append(c)
                coefficient.append(left[r * columns + c])
            }
            starts.append(columnOf.count)
        }
        (self.starts, self.columnOf, self.coefficient) = (starts, columnOf, coefficient)
    }

    /// y [rows × rows] = L x Lᵀ for x [columns × columns]; `scratch` holds rows × columns vectors.
    @inline(__always)
    func apply(_ x: UnsafePointer<FloatVector>, _ y: UnsafeMutablePointer<FloatVector>, scratch: UnsafeMutablePointer<FloatVector>) {
        let (rows, columns) = (self.rows, self.columns)
        switch kernel {
        case .f4Input:
            for c in 0..<6 { Self.f4Input(x + c, 6, scratch + c, 6) }
            for r in 0..<6 { Self.f4Input(scratch + r &* 6, 1, y + r &* 6, 1) }
        case .f4Output:
            for c in 0..<6 { Self.f4Output(x + c, 6, scratch + c, 6) }
            for r in 0..<4 { Self.f4Output(scratch + r &* 6, 1, y + r &* 4, 1) }
        case .f2Input:
            for c in 0..<4 { Self.f2Input(x + c, 4, scratch + c, 4) }
            for r in 0..<4 { Self.f2Input(scratch + r &* 4, 1, y + r &* 4, 1) }
        case .f2Output:
            for c in 0..<4 { Self.f2Output(x + c, 4, scratch + c, 4) }
            for r in 0..<2 { Self.f2Output(scratch + r &* 4, 1, y + r &* 2, 1) }
        case .general:
            starts.withUnsafeBufferPointer { starts in
                columnOf.withUnsafeBufferPointer { columnOf in
                    coefficient.withUnsafeBufferPointer { coefficient in
                        for r in 0..<rows {  // scratch = L x
                            for c in 0..<columns {
                                var acc = FloatVector()
                                for e in starts[r]..<starts[r &+ 1] {
                                    acc = multiplyAdd(acc, FloatVector(repeating: coefficient[e]), x[columnOf[e] &* columns &+ c])
                                }
                                scratch[r &* columns &+ c] = acc
                            }
                        }
                        for r in 0..<rows {  // y = scratch Lᵀ
                            for s in 0..<rows {
                                var acc = FloatVector()
                                for e in starts[s]..<starts[s &+ 1] {
                                    acc = multiplyAdd(acc, FloatVector(repeating: coefficient[e]), scratch[r &* columns &+ columnOf[e]])
                                }
                                y[r &* rows &+ s] = acc
                            }
                        }
                    }
                }
            }
        }
    }

    /// Bᵀ d for F(4×4,3×3) along one line of 6 (strides in vectors).
    @inline(__always)
    static func f4Input(_ d: UnsafePointer<FloatVector>, _ ds: Int, _ r: UnsafeMutablePointer<FloatVector>, _ rs: Int) {
        let (d0, d1, d2, d3, d4, d5) = (d[0], d[ds], d[2 &* ds], d[3 &* ds], d[4 &* ds], d[5 &* ds])
        let four = FloatVector(repeating: 4), five = FloatVector(repeating: 5), two = FloatVector(repeating: 2)
        r[0] = four * d0 - five * d2 + d4
        r[rs] = (d3 + d4) - four * (d1 + d2)
        r[2 &* rs] = (d4 - d3) + four * (d1 - d2)
        r[3 &* rs] = (d4 - d2) + two * (d3 - d1)
        r[4 &* rs] = (d4 - d2) - two * (d3 - d1)
        r[5 &* rs] = four * d1 - five * d3 + d5
    }

    /// Aᵀ m for F(4×4,3×3) along one line of 6.
    @inline(__always)
    static func f4Output(_ m: UnsafePointer<FloatVector>, _ ms: Int, _ y: UnsafeMutablePointer<FloatVector>, _ ys: Int) {
        let (m0, m5) = (m[0], m[5 &* ms])
        let s12 = m[ms] + m[2 &* ms], d12 = m[ms] - m[2 &* ms]
        let s34 = m[3 &* ms] + m[4 &* ms], d34 = m[3 &* ms] - m[4 &* ms]
        y[0] = m0 + s12 + s34
        y[ys] = d12 + FloatVector(repeating: 2) * d34
        y[2 &* ys] = s12 + FloatVector(repeating: 4) * s34
        y[3 &* ys] = d12 + FloatVector(repeating: 8) * d34 + m5
    }

    /// Bᵀ d for F(2×2,3×3) along one line of 4.
    @inline(__always)
    static func f2Input(_ d: UnsafePointer<FloatVector>, _ ds: Int, _ r: UnsafeMutablePointer<FloatVector>, _ rs: Int) {
        let (d0, d1, d2, d3) = (d[0], d[ds], d[2 &* ds], d[3 &* ds])
        r[0] = d0 - d2
        r[rs] = d1 + d2
        r[2 &* rs] = d2 - d1
        r[3 &* rs] = d1 - d3
    }

    /// Aᵀ m for F(2×2,3×3) along one line of 4.
    @inline(__always)
    static func f2Output(_ m: UnsafePointer<FloatVector>, _ ms: Int, _ y: UnsafeMutablePointer<FloatVector>, _ ys: Int) {
        let (m0, m1, m2, m3) = (m[0], m[ms], m[2 &* ms], m[3 &* ms])
        y[0] = m0 + m1 + m2
        y[ys] = m1 - m2 - m3
    }
}
