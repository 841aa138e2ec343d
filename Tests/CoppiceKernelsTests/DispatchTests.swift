import CCPUDispatch
import CoppiceKernels
import CoppiceTestSupport
import Foundation
import Testing

/// Every ISA variant this machine supports against its generic twin and libm, on odd sizes; the GEMM
/// backend's BLIS path against the reference product.
@Suite struct DispatchTests {
    static let levels = CPU.ISALevel.allCases.filter { $0 <= CPU.supportedISA }

    /// Values across exp's range: its saturation edges, NaN, infinities and a run that is not a
    /// multiple of any vector width.
    static let inputs: [Float] = {
        var values: [Float] = [0, -0.0, 1, -1, 88.37, 88.38, -87.33, -87.34, 100, -100, .infinity, -.infinity, .nan]
        var seed: UInt64 = 7
        for _ in 0..<1010 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            values.append(Float(Double(seed >> 40) / Double(1 << 24) * 180 - 90))
        }
        return values
    }()

    @Test func expVariantsAgreeWithTheGenericTwinAndLibm() {
        let x = Self.inputs
        var generic = [Float](repeating: 0, count: x.count)
        coppice_exp_level(0, x, &generic, x.count)
        for level in Self.levels {
            var y = [Float](repeating: 0, count: x.count)
            coppice_exp_level(Int32(level.rawValue), x, &y, x.count)
            for i in x.indices {
                let expected = Foundation.exp(Double(x[i]))
                if x[i].isNaN { #expect(y[i].isNaN, "\(level) exp(nan)"); continue }
                if expected > Double(Float.greatestFiniteMagnitude) || x[i] > 88.3762626647949 {
                    #expect(y[i] == .infinity, "\(level) exp(\(x[i])) = \(y[i])")
                    continue
                }
                if x[i] < -87.3365478515625 { #expect(y[i] == 0, "\(level) exp(\(x[i])) = \(y[i])"); continue }
                #expect(abs(Double(y[i]) - expected) <= 4e-7 * expected, "\(level) exp(\(x[i])) = \(y[i]), libm \(expected)")
                #expect(abs(y[i] - generic[i]) <= 2.5e-7 * generic[i], "\(level) against the generic twin at \(x[i])")
            }
        }
    }

    @Test func expSumsWriteAndAddTheShiftedExponentials() {
        let x = Array(Self.inputs[13...]).map { $0 / 10 }  // finite values in [-9, 9]
        let shift = x.max()!
        let expected = x.map { Foundation.exp(Double($0 - shift)) }
        for level in Self.levels {
            var z = [Float](repeating: 0, count: x.count)
            let sum = coppice_exp_sum_level(Int32(level.rawValue), x, shift, &z, x.count)
            #expect(abs(Double(sum) - expected.reduce(0, +)) <= 1e-5 * expected.reduce(0, +), "\(level) sum \(sum)")
            #expect(zip(z, expected).allSatisfy { abs(Double($0) - $1) <= 4e-7 * $1 + 1e-30 }, "\(level) values")
            #expect(coppice_exp_sum_level(Int32(level.rawValue), x, shift, nil, x.count) == sum, "\(level): the sum alone is the same")
        }
    }

    @Test func activationVariantsAgreeWithLibm() {
        let x = Self.inputs.filter(\.isFinite).map { $0 / 4 }
        let references: [(Int32, String, (Double) -> Double)] = [
            (Int32(COPPICE_SIGMOID), "sigmoid", { 1 / (1 + Foundation.exp(-$0)) }), (Int32(COPPICE_TANH), "tanh", { Foundation.tanh($0) }),
            (Int32(COPPICE_SILU), "silu", { $0 / (1 + Foundation.exp(-$0)) }),
        ]
        for level in Self.levels {
            for (op, name, reference) in references {
                var y = [Float](repeating: .nan, count: x.count)
                coppice_activation_level(Int32(level.rawValue), op, x, &y, x.count)
                for i in x.indices {
                    let expected = reference(Double(x[i]))
                    #expect(abs(Double(y[i]) - expected) <= 2e-6 + 1e-5 * abs(expected), "\(level) \(name)(\(x[i])) = \(y[i]), libm \(expected)")
                }
            }
        }
    }

    @Test func directConvolutionTilesAgreeAcrossLevels() {
        let channels = 5, taps = 9, tiles = 3, pitch = 3 * 64 + 40, rowLength = tiles * 64
        let offsets = (0..<taps).map { ($0 / 3) * 18 + $0 % 3 }
        let padded = (0..<(channels * pitch)).map { Float(($0 * 37) % 19) / 19 - 0.5 }
        let packed = (0..<(channels * taps * 4)).map { Float(($0 * 11) % 13) / 13 - 0.5 }
        // The oracle: the formula in Double.
        var expected = [Double](repeating: 0, count: 4 * rowLength)
        for tile in 0..<tiles {
            for j in 0..<4 {
                for i in 0..<64 {
                    var sum = 0.0
                    for c in 0..<channels {
                        for t in 0..<taps { sum += Double(packed[(c * taps + t) * 4 + j]) * Double(padded[c * pitch + 64 * tile + offsets[t] + i]) }
                    }
                    expected[j * rowLength + 64 * tile + i] = sum
                }
            }
        }
        for level in Self.levels {
            var out = [Float](repeating: .nan, count: 4 * rowLength)
            coppice_direct_conv_tiles(
                Int32(level.rawValue), padded, packed, offsets, Int32(taps), Int32(channels), pitch, Int32(tiles), rowLength, &out)
            #expect(zip(out, expected).allSatisfy { abs(Double($0) - $1) <= 1e-5 * max(1, abs($1)) }, "\(level)")
        }
    }

    /// BF16 products (prefill on AVX512-BF16) at every level against the plain C twin, on row counts
    /// that leave a partial panel of 64, odd columns (a half pair), token counts that leave partial
    /// tiles, and the interleaved layout; the activations' rounding is `bfloat16Bits`'s.
    @Test func bf16ProductsAgreeAcrossLevels() {
        for (rows, columns, tokens, interleaved) in [(1, 1, 1, false), (37, 53, 13, false), (70, 1031, 25, false), (40, 4104, 17, true)] {
            let w = testValues(rows * columns, seed: UInt64(rows)).map(bfloat16Bits)
            let stored = interleaved ? interleave(w, rows: rows, columns: columns) : w
            let x = testValues(tokens * columns, seed: 3), pairs = (columns + 1) / 2
            var rounded = [UInt32](repeating: 0, count: tokens * pairs)
            coppice_bf16_round_activations(x, tokens, columns, &rounded)
            let expectedPairs = (0..<tokens).flatMap { t in
                (0..<pairs).map { p in
                    let high = 2 * p + 1 < columns ? UInt32(bfloat16Bits(x[t * columns + 2 * p + 1])) : 0
                    return UInt32(bfloat16Bits(x[t * columns + 2 * p])) | high << 16
                }
            }
            #expect(rounded == expectedPairs, "\(rows)×\(columns): activations rounded as bfloat16Bits")
            var generic = [Float](repeating: .nan, count: tokens * rows)
            coppice_bf16_multiply(0, stored, interleaved ? 1 : 0, columns, 0, rows, rounded, tokens, &generic, rows)
            let widen = { (bits: UInt16) in Double(Float(bitPattern: UInt32(bits) << 16)) }
            for t in [0, tokens - 1] {
                for r in [0, rows - 1] {
                    let exact = (0..<columns).reduce(0.0) { $0 + widen(w[r * columns + $1]) * widen(bfloat16Bits(x[t * columns + $1])) }
                    #expect(abs(Double(generic[t * rows + r]) - exact) <= 1e-5 * Double(columns), "generic \(rows)×\(columns) [\(t), \(r)]")
                }
            }
            // The sums run in another order at each level: a few float roundings of Σ |w·x| ≤ columns apart.
            for level in Self.levels {
                var y = [Float](repeating: .nan, count: tokens * rows)
                coppice_bf16_multiply(Int32(level.rawValue), stored, interleaved ? 1 : 0, columns, 0, rows, rounded, tokens, &y, rows)
                let worst = zip(y, generic).map { abs($0 - $1) }.max()!
                #expect(worst <= 4e-6 * Float(columns), "\(level) \(rows)×\(columns) × \(tokens) tokens: \(worst)")
            }
        }
    }

    /// F16 products (prefill panels on AVX-512) at every level against the plain C twin and the exact
    /// sums, on row counts that leave a partial panel of 64 and a partial gather of 16, odd columns, token
    /// counts that leave partial tiles, a first row past 0, and the interleaved layout.
    @Test func f16ProductsAgreeAcrossLevels() {
        for (rows, columns, tokens, interleaved) in [(1, 1, 1, false), (37, 53, 13, false), (130, 1031, 25, false), (136, 4104, 9, true)] {
            let w = testValues(rows * columns, seed: UInt64(rows)).map { Float16($0).bitPattern }
            let stored = interleaved ? interleave(w, rows: rows, columns: columns) : w
            let x = testValues(tokens * columns, seed: 3)
            // Rows from 64 on (a second panel, as the pool's pieces start) where there are that many.
            let first = rows > 64 ? 64 : 0, count = rows - first
            var generic = [Float](repeating: .nan, count: tokens * rows)
            coppice_f16_multiply(0, stored, interleaved ? 1 : 0, columns, first, count, x, tokens, &generic, rows)
            for t in [0, tokens - 1] {
                for r in [first, rows - 1] {
                    let exact = (0..<columns).reduce(0.0) {
                        $0 + Double(Float(Float16(bitPattern: w[r * columns + $1]))) * Double(x[t * columns + $1])
                    }
                    #expect(abs(Double(generic[t * rows + r]) - exact) <= 1e-5 * Double(columns), "generic \(rows)×\(columns) [\(t), \(r)]")
                }
            }
            for level in Self.levels {
                var y = [Float](repeating: .nan, count: tokens * rows)
                coppice_f16_multiply(Int32(level.rawValue), stored, interleaved ? 1 : 0, columns, first, count, x, tokens, &y, rows)
                let worst = zip(y, generic).enumerated().filter { $0.offset % rows >= first }.map { abs($0.element.0 - $0.element.1) }.max()!
                #expect(worst <= 4e-6 * Float(columns), "\(level) \(rows)×\(columns) × \(tokens) tokens: \(worst)")
                #expect(y.enumerated().allSatisfy { $0.offset % rows >= first || $0.element.isNaN }, "rows before `first` untouched")
            }
        }
    }

    /// `coppice_float_interleave`'s layout: eight rows' first 8 values, then their next 8, ….
    func interleave(_ w: [UInt16], rows: Int, columns: Int) -> [UInt16] {
        var out = w
        for r in 0..<rows {
            for c in 0..<columns { out[(r / 8) * 8 * columns + (c / 8) * 64 + (r % 8) * 8 + c % 8] = w[r * columns + c] }
        }
        return out
    }

    @Test func sparseRowProductsAgreeAcrossLevels() {
        // A row of 7 nonzeros over a 40-row Xᵀ with a panel stride above the width, at widths that
        // leave every tail (full passes, single vectors, scalars).
        let indices: [Int32] = [0, 3, 4, 9, 17, 30, 39], values: [Float] = [0.5, -1, 2, 0.25, -0.75, 1.5, 3]
        for n in [1, 7, 16, 67, 130, 300] {
            let ldx = n + 5
            let xT = (0..<(40 * ldx)).map { Float(($0 * 29) % 23) / 23 - 0.5 }
            let expected = (0..<n).map { c in zip(indices, values).reduce(0.0) { $0 + Double($1.1) * Double(xT[Int($1.0) * ldx + c]) } }
            for level in Self.levels {
                var out = [Float](repeating: .nan, count: n)
                coppice_csr_row_times_dense(Int32(level.rawValue), values, indices, indices.count, xT, ldx, &out, n)
                #expect(zip(out, expected).allSatisfy { abs(Double($0) - $1) <= 1e-5 * max(1, abs($1)) }, "\(level) n = \(n)")
            }
        }
    }

    @Test func csrRowsTimesAVectorAgreeAcrossLevelsForBothIndexWidths() {
        // Row lengths around both vector widths and their doubles (tails of every size), an empty row.
        let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 40]
        let columns = 300, x = testValues(columns, seed: 95)
        var starts: [Int32] = [0]
        var indices: [Int32] = []
        for (r, length) in lengths.enumerated() {
            indices += (0..<length).map { Int32(($0 * 37 + r * 11) % columns) }
            starts.append(Int32(indices.count))
        }
        let values = testValues(indices.count, seed: 96), short = indices.map { UInt16($0) }
        let expected = lengths.indices.map { r in
            (Int(starts[r])..<Int(starts[r + 1])).reduce(0.0) { $0 + Double(values[$1]) * Double(x[Int(indices[$1])]) }
        }
        for level in Self.levels {
            for shortIndices in [false, true] {
                var y = [Float](repeating: .nan, count: lengths.count)
                if shortIndices {
                    coppice_csr_rows_times_vector(Int32(level.rawValue), starts, values, short, 1, 0, lengths.count, x, &y)
                } else {
                    coppice_csr_rows_times_vector(Int32(level.rawValue), starts, values, indices, 0, 0, lengths.count, x, &y)
                }
                #expect(
                    zip(y, expected).allSatisfy { abs(Double($0) - $1) <= 1e-5 * max(1, abs($1)) },
                    "\(level) \(shortIndices ? "16" : "32")-bit indices: \(y) against \(expected)")
            }
        }
    }

    @Test func narrowProductsAgreeAcrossLevelsAndKeepToTheirColumns() {
        // k of 8 and more with n ≤ 4 runs the dot-product form: full vectors, masked tails of both widths.
        for (m, k) in [(1, 1), (7, 5), (13, 33), (20, 64), (5, 8), (11, 40), (6, 23)] {
            for n in [1, 2, 3, 4, 8, 9, 16, 21] {
                let (lda, ldb, ldc) = (k + 3, n + 5, n + 2)
                let a = testValues(m * lda, seed: 80), b = testValues(k * ldb, seed: 81)
                var expected = [Double](repeating: 0, count: m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k { sum += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
                        expected[i * n + j] = sum
                    }
                }
                for level in Self.levels {
                    var c = [Float](repeating: 7, count: m * ldc)
                    coppice_narrow_product(Int32(level.rawValue), m, Int32(n), k, a, lda, b, ldb, &c, ldc)
                    var close = true
                    for i in 0..<m {
                        for j in 0..<n where abs(Double(c[i * ldc + j]) - expected[i * n + j]) > 1e-5 * max(1, abs(expected[i * n + j])) {
                            close = false
                        }
                    }
                    #expect(close, "\(level) m \(m) n \(n) k \(k)")
                    #expect((0..<m).allSatisfy { i in c[(i * ldc + n)..<(i * ldc + ldc)].allSatisfy { $0 == 7 } }, "\(level): only n columns written")
                }
            }
        }
    }

    @Test func dotInteractionAgreesAcrossLevels() {
        // Odd sizes: a partial last group of 8 examples, vector counts that leave partners past the
        // blocks of four, and odd widths.
        for (n, batch, d) in [(2, 1, 1), (7, 19, 13), (9, 16, 64), (6, 9, 3)] {
            let vectors = (0..<n).map { testValues(batch * d, seed: UInt64(70 + $0)) }
            let pairs = n * (n - 1) / 2
            var expected = [Double](repeating: 0, count: batch * pairs)
            for row in 0..<batch {
                var p = 0
                for i in 1..<n {
                    for j in 0..<i {
                        var sum = 0.0
                        for c in 0..<d { sum += Double(vectors[i][row * d + c]) * Double(vectors[j][row * d + c]) }
                        expected[row * pairs + p] = sum
                        p += 1
                    }
                }
            }
            for level in Self.levels {
                var out = [Float](repeating: .nan, count: batch * pairs)
                var interleaved = [Float](repeating: .nan, count: DotInteractionKernel.interleavedCount(vectors: n, batch: batch, dimension: d))
                let flat = Array(vectors.joined())
                flat.withUnsafeBufferPointer { flat in
                    let pointers = (0..<n).map { flat.baseAddress! + $0 * batch * d }
                    DotInteractionKernel.forward(pointers, batch: batch, dimension: d, interleaved: &interleaved, &out, level: level)
                }
                #expect(zip(out, expected).allSatisfy { abs(Double($0) - $1) <= 1e-5 * max(1, abs($1)) }, "\(level) n \(n) batch \(batch) d \(d)")
                // Component c of vector i, example 8g + l sits at ((g·n + i)·d + c)·8 + l, zero past the batch.
                let (group, lane) = ((batch - 1) / 8, (batch - 1) % 8)
                let position: Int = (((group * n + n - 1) * d + d - 1) * 8) + lane
                #expect(interleaved[position] == vectors[n - 1][batch * d - 1])
                #expect(lane == 7 || interleaved.last == 0)
                // Backward from the same interleaved vectors: dx_i = Σ_{j≠i} g(i,j)·x_j, every element written.
                let g = testValues(batch * pairs, seed: 90)
                var dx = [Float](repeating: .nan, count: n * batch * d)
                DotInteractionKernel.backward(interleaved: interleaved, vectors: n, batch: batch, dimension: d, gradient: g, &dx, level: level)
                for i in 0..<n {
                    for row in 0..<batch {
                        for c in 0..<d {
                            var sum = 0.0
                            for j in 0..<n where j != i {
                                let p = max(i, j) * (max(i, j) - 1) / 2 + min(i, j)
                                sum += Double(g[row * pairs + p]) * Double(vectors[j][row * d + c])
                            }
                            let got = Double(dx[(i * batch + row) * d + c])
                            #expect(
                                abs(got - sum) <= 1e-5 * max(1, abs(sum)), "backward \(level) n \(n) batch \(batch) d \(d) i \(i) row \(row) c \(c)")
                        }
                    }
                }
            }
        }
    }

    @Test func theISALevelIsTheSupportedOneUnlessCapped() {
        let cap = ProcessInfo.processInfo.environment["COPPICE_ISA"]
        if cap == nil { #expect(CPU.isa == CPU.supportedISA) } else { #expect(CPU.isa.description == cap || CPU.isa < CPU.supportedISA) }
        #expect(CPU.ISALevel.allCases.map(\.description) == ["generic", "avx2", "avx512", "avx512-vnni"])
        #expect(CPU.supportedISA == .generic || CPU.features.contains("avx2"))
        #expect(CPU.peakFLOPs(level: .generic, seconds: 0.005) > 1e8, "even the scalar probe does more than 0.1 GFLOP/s")
    }

    @Test func fallbackOpenBLASCoresAreRecognized() {
        #expect(GemmBackend.isFallback(core: "Prescott", isa: .avx512))
        #expect(GemmBackend.isFallback(core: "Core2", isa: .avx2))
        #expect(!GemmBackend.isFallback(core: "Zen", isa: .avx2))
        #expect(!GemmBackend.isFallback(core: "SkylakeX", isa: .avx512VNNI))
        #expect(GemmBackend.isFallback(core: "Haswell", isa: .avx512), "AVX2 kernels leave half of an AVX-512 CPU idle")
        #expect(!GemmBackend.isFallback(core: "Prescott", isa: .generic), "an old core is right for an old CPU")
    }

    @Test(.enabled(if: coppice_blis_available() != 0, "BLIS (libblis4) is not installed"))
    func blisProductsMatchTheReference() {
        expectProductsMatchTheReference(coppice_blis_sgemm)
    }

    @Test(.enabled(if: coppice_onednn_available() != 0, "oneDNN (libdnnl2) is not installed"))
    func oneDNNProductsMatchTheReference() {
        expectProductsMatchTheReference(coppice_onednn_sgemm)
    }

    /// Odd shapes, vectors (oneDNN takes them too), every transpose, alpha and beta.
    private func expectProductsMatchTheReference(
        _ sgemm: (Int32, Int32, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Float, UnsafeMutablePointer<Float>, Int)
            -> Void
    ) {
        for (m, n, k) in [(7, 13, 5), (33, 17, 64), (65, 3, 31), (1, 19, 37), (23, 1, 41)] {
            for (ta, tb) in [(Gemm.Transpose.none, Gemm.Transpose.none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)] {
                let a = (0..<(m * k)).map { Float(($0 * 7) % 11) - 5 }, b = (0..<(k * n)).map { Float(($0 * 5) % 13) - 6 }
                let lda = ta == .none ? k : m, ldb = tb == .none ? n : k
                var expected = [Float](repeating: 1, count: m * n), c = expected
                Gemm.reference(ta, tb, m: m, n: n, k: k, alpha: 0.5, a, lda: lda, b, ldb: ldb, beta: 2, &expected, ldc: n)
                sgemm(ta == .none ? 0 : 1, tb == .none ? 0 : 1, m, n, k, 0.5, a, lda, b, ldb, 2, &c, n)
                #expect(zip(c, expected).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "\(m)x\(n)x\(k) \(ta) \(tb)")
            }
        }
    }
}
