import CoppiceKernels
import CQuantizedDot
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite(.serialized) struct WeightMatrixTests {
    /// Every storage format against its definition (dequantized rows times x), for one activation
    /// row (the SIMD dot products), a few (register tiles over one column block and over two) and
    /// many (dequantized panels through BLAS), on odd row counts,
    /// partial panels and, for F32/F16, columns that are not a multiple of the vector width.
    @Test(arguments: WeightMatrix.Format.allCases)
    func productsMatchTheDefinition(format: WeightMatrix.Format) {
        checkProducts(format)
    }

    /// The AVX2 variants, which a CPU with VNNI (integer rows) or AVX-512 (float rows) would not
    /// otherwise run.
    @Test(arguments: WeightMatrix.Format.allCases)
    func avx2KernelsMatchTheDefinition(format: WeightMatrix.Format) {
        coppice_quantized_dot_prefer_avx2(1)
        defer { coppice_quantized_dot_prefer_avx2(0) }
        checkProducts(format)
    }

    /// A weight copy the system cannot map is a thrown error naming the size, not a stopped process;
    /// the copies that cannot throw (interleaved rows) fall back to ordinary memory.
    @Test func weightCopiesWithoutMemoryThrow() throws {
        let bytes = 1 << 60
        #expect(throws: WeightMemoryError.self) { _ = try WeightBytes(count: bytes) { _ in Issue.record("written without memory") } }
        do {
            _ = try WeightBytes(count: bytes) { _ in }
        } catch {
            #expect("\(error)".contains("\(bytes) bytes") && "\(error)".contains("--no-mmap"), "\(error)")
        }
        let copy = try [UInt8](repeating: 7, count: 3 << 20).withUnsafeBytes { try WeightBytes(copying: $0) }
        #expect(copy.count == 3 << 20 && copy.withUnsafeBytes { $0.allSatisfy { $0 == 7 } })
    }

    /// Several matrices times one row in one dispatch (decode's q, k, v) equal each one alone, with
    /// the pieces crossing matrix borders (odd row counts, enough rows to split over threads; rows in
    /// eights: interleaved Q4_0).
    @Test(arguments: WeightMatrix.Format.allCases)
    func fusedProductsEqualSeparateOnes(format: WeightMatrix.Format) {
        let columns = 96, x = testValues(columns, seed: 5)
        for rowCounts in [[67, 1, 301], [64, 8, 304]] {
            let matrices = rowCounts.enumerated().map { i, rows in
                testValues(rows * columns, seed: UInt64(20 + i)).withUnsafeBufferPointer {
                    WeightMatrix(values: $0, rows: rows, columns: columns, format: format)
                }
            }
            // The outputs back to back in one buffer.
            let starts = rowCounts.indices.map { rowCounts[..<$0].reduce(0, +) }
            var fused = [Float](repeating: .nan, count: rowCounts.reduce(0, +))
            fused.withUnsafeMutableBufferPointer { f in
                let outputs = starts.map { f.baseAddress! + $0 }
                matrices.withUnsafeBufferPointer { ms in outputs.withUnsafeBufferPointer { WeightMatrix.multiplyVector(ms, x, into: $0) } }
            }
            for (m, matrix) in matrices.enumerated() {
                var alone = [Float](repeating: .nan, count: matrix.rows)
                matrix.multiply(x, count: 1, into: &alone)
                #expect(
                    allClose(Array(fused[starts[m]..<(starts[m] + matrix.rows)]), alone, relativeTolerance: 1e-6, absoluteTolerance: 1e-6),
                    "\(format) \(rowCounts) matrix \(m)")
            }
        }
    }

    func checkProducts(_ format: WeightMatrix.Format) {
        // 8 and 136 rows: Q8_0 / Q4_0 interleaved in groups of 8 (where the CPU has the integer kernels).
        // F32/F16/BF16 only: (5, 37) a scalar tail; (40, 4104) rows wide enough to be interleaved
        // (prefill panels then start inside a group of 8); (7, 4103) as wide, but not in eights.
        let floatShapes = [(5, 37), (7, 4103), (40, 4104)]
        for (rows, columns) in [(1, 32), (67, 96), (130, 64), (8, 32), (136, 96)] + (format.isBlockQuantized ? [] : floatShapes) {
            let values = testValues(rows * columns, seed: UInt64(rows + columns))
            let w = values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: rows, columns: columns, format: format) }
            #expect(w.storage.count == rows * w.rowBytes)
            for t in [1, 3, 9, 70, 130] {
                let x = testValues(t * columns, seed: 11)
                var fast = [Float](repeating: .nan, count: t * rows), slow = fast, exact = fast
                w.multiply(x, count: t, into: &fast)
                // Integer decode is defined on the activations' int8 round trip; the exact product
                // differs from it by the activation rounding only (about 1/254 of each |x|).
                // BF16 prefill on a CPU with AVX512-BF16 is defined on x rounded to BF16, as llama.cpp's.
                let rounded =
                    w.quantizesActivations(count: t)
                    ? activationRoundTrip(x) : w.roundsActivationsToBF16(count: t) ? x.map(bfloat16RoundTrip) : x
                w.reference(rounded, count: t, into: &slow)
                #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "\(format) \(rows)×\(columns) t=\(t)")
                w.reference(x, count: t, into: &exact)
                // From the exact product at most by the rounding carried through the weights.
                let bounds = roundingBounds(w, x, rounded, count: t)
                #expect(
                    zip(zip(fast, exact), bounds).allSatisfy { abs($0.0 - $0.1) <= $1 + 1e-4 * (1 + abs($0.1)) },
                    "\(format) \(rows)×\(columns) t=\(t)")
            }
            if format == .q4_0 || format == .q8_0 {
                #expect(w.quantizesActivations(count: 3) == w.interleaved)
                #expect(w.interleaved == (rows % 8 == 0 && WeightMatrix.integerKernelsAvailable))
                // Rows read back from either layout are the GGML blocks' values.
                var blocks = [UInt8](repeating: 0, count: rows * w.rowBytes)
                values.withUnsafeBufferPointer { v in
                    blocks.withUnsafeMutableBytes { (format == .q4_0 ? BlockQuantization.q4_0 : .q8_0).quantize(v, into: $0) }
                }
                for r in [0, rows / 2, rows - 1] {
                    var stored = [Float](repeating: 0, count: columns), expected = stored
                    w.dequantizeRow(r, into: &stored)
                    blocks.withUnsafeBytes { raw in
                        (format == .q4_0 ? BlockQuantization.q4_0 : .q8_0).dequantize(
                            UnsafeRawBufferPointer(rebasing: raw[(r * w.rowBytes)..<((r + 1) * w.rowBytes)]),
                            count: columns, into: &expected)
                    }
                    #expect(stored == expected, "\(format) \(rows)×\(columns) row \(r)")
                }
                #if arch(x86_64)
                #expect(WeightMatrix.integerKernelsAvailable && w.quantizesActivations(count: 1), "the CI and bench machines have AVX2")
                #endif
            }
            if !format.isBlockQuantized {
                #expect(
                    w.interleaved == (rows % 8 == 0 && columns >= WeightMatrix.wideRow && columns % 8 == 0 && WeightMatrix.integerKernelsAvailable))
                // Widened rows (vector bodies and scalar tails, either layout) equal the formats' definitions.
                for r in Set([0, rows / 2, rows - 1]) {
                    var row = [Float](repeating: 0, count: columns)
                    w.dequantizeRow(r, into: &row)
                    let stored = Array(values[(r * columns)..<((r + 1) * columns)])
                    let expected =
                        switch format {
                        case .f16: stored.map { Float(Float16($0)) }
                        case .bf16: stored.map(bfloat16RoundTrip)
                        default: stored
                        }
                    #expect(row == expected, "\(format) \(rows)×\(columns) row \(r)")
                }
            }
        }
    }

    /// Σ_j |W[r, j]| · |x[i, j] − rounded[i, j]| for every output [i, r].
    func roundingBounds(_ w: WeightMatrix, _ x: [Float], _ rounded: [Float], count t: Int) -> [Float] {
        var bounds = [Float](repeating: 0, count: t * w.rows), row = [Float](repeating: 0, count: w.columns)
        for r in 0..<w.rows {
            w.dequantizeRow(r, into: &row)
            for i in 0..<t {
                bounds[i * w.rows + r] = (0..<w.columns).reduce(0) { $0 + abs(row[$1]) * abs(x[i * w.columns + $1] - rounded[i * w.columns + $1]) }
            }
        }
        return bounds
    }

    func bfloat16RoundTrip(_ value: Float) -> Float { Float(bitPattern: UInt32(bfloat16Bits(value)) << 16) }

    func activationRoundTrip(_ x: [Float]) -> [Float] {
        var scales = [Float](repeating: 0, count: x.count / 32), values = [Int8](repeating: 0, count: x.count)
        var sums = [Int32](repeating: 0, count: x.count / 32)
        x.withUnsafeBufferPointer {
            BlockQuantization.quantizeActivations($0.baseAddress!, count: x.count, scales: &scales, values: &values, sums: &sums)
        }
        return x.indices.map { scales[$0 / 32] * Float(values[$0]) }
    }

    @Test func activationQuantizationMatchesLlamaCpp() {
        // ggml's quantize_row_q8_0 on one block: d = max|x| / 127 (stored as F16), q = round(x / d), ties away from zero.
        var x = [Float](repeating: 0, count: 32)
        x[0] = 2.54; x[1] = -1.27; x[2] = 0.01; x[3] = 0.03
        var scales = [Float](repeating: 0, count: 1), values = [Int8](repeating: 0, count: 32), sums: [Int32] = [0]
        BlockQuantization.quantizeActivations(x, count: 32, scales: &scales, values: &values, sums: &sums)
        #expect(scales == [Float(Float16(0.02))] && Array(values.prefix(4)) == [127, -64, 1, 2] && values[4] == 0 && sums == [66])
        var zeros = [Float](repeating: 0, count: 32)
        BlockQuantization.quantizeActivations(&zeros, count: 32, scales: &scales, values: &values, sums: &sums)
        #expect(scales == [0] && values.allSatisfy { $0 == 0 } && sums == [0])
    }
}
