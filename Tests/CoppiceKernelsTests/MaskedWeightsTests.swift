import CCPUDispatch
import CoppiceKernels
import CoppiceTensor
import CoppiceTestSupport
import Testing

/// Pruned matrices stored as masks and packed values against the dense product of the same weights.
@Suite struct MaskedWeightsTests {
    static let formats: [WeightMatrix.Format] = [.f32, .f16, .bf16, .q8_0]

    /// `values` with a pruning pattern applied: unstructured (about half, rows all zero and rows all
    /// kept among them), 2:4 or 4:8.
    func pruned(_ values: [Float], rows: Int, columns: Int, pattern: String, seed: UInt64) -> [Float] {
        var w = values, rng = RandomGenerator(seed: seed)
        for r in 0..<rows {
            for j in 0..<columns {
                let keep: Bool
                switch pattern {
                case "2:4": keep = j % 4 == (r + j / 4) % 4 || j % 4 == (r + j / 4 + 1) % 4
                case "4:8": keep = ((j + r) % 8) < 4
                default: keep = r % 11 == 3 ? false : r % 11 == 5 ? true : rng.nextUniform() < 0.5
                }
                if !keep { w[r * columns + j] = 0 }
            }
        }
        return w
    }

    /// Every variant the CPU runs (generic, AVX2, AVX-512, AVX-512 with VBMI2), every value type, odd row counts, rows
    /// wide enough to be interleaved in the dense layout, Q8_0 rows in eights (interleaved blocks):
    /// one-row products and widened rows equal the dense matrix's.
    @Test(arguments: formats)
    func kernelsMatchTheDenseProduct(format: WeightMatrix.Format) {
        for (rows, columns) in [(1, 32), (67, 96), (8, 160), (40, 4128)] {
            for pattern in ["unstructured", "2:4", "4:8"] {
                let values = pruned(testValues(rows * columns, seed: UInt64(rows * columns)), rows: rows, columns: columns, pattern: pattern, seed: 3)
                let dense = values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: rows, columns: columns, format: format) }
                let masked = MaskedWeights(dense), x = testValues(columns, seed: 9)
                // Packed by the scalar twin: the same bytes as by the vector packing.
                let generic = MaskedWeights(dense, level: Int32(COPPICE_ISA_GENERIC))
                #expect(generic.nonzeros == masked.nonzeros && generic.byteCount == masked.byteCount)
                var fromGeneric = [Float](repeating: .nan, count: rows * columns), fromVector = fromGeneric
                generic.expandRows(0..<rows, into: &fromGeneric)
                masked.expandRows(0..<rows, into: &fromVector)
                let samePacking = fromGeneric == fromVector
                #expect(samePacking, "\(format) \(rows)×\(columns) \(pattern) packed by the scalar twin")
                var exact = [Float](repeating: 0, count: rows), rounded = exact
                dense.reference(x, count: 1, into: &exact)
                // The integer Q8_0 kernel is defined on x's int8 round trip, as the dense Q8_0 rows are.
                dense.reference(WeightMatrixTests().activationRoundTrip(x), count: 1, into: &rounded)
                var denseRow = [Float](repeating: 0, count: columns)
                let levels = [COPPICE_ISA_GENERIC, COPPICE_ISA_AVX2, COPPICE_ISA_AVX512, COPPICE_ISA_AVX512_VNNI].map { Int32($0) }.filter {
                    $0 <= coppice_isa_hardware()
                }
                for level in levels {
                    let expected = format == .q8_0 && coppice_masked_q8_integer(level) != 0 ? rounded : exact
                    var y = [Float](repeating: .nan, count: rows)
                    masked.multiplyRows(0..<rows, x, into: &y, level: level)
                    #expect(
                        allClose(y, expected, relativeTolerance: 1e-4, absoluteTolerance: 1e-4),
                        "\(format) \(rows)×\(columns) \(pattern) level \(level)")
                    var widened = [Float](repeating: .nan, count: rows * columns)
                    masked.expandRows(0..<rows, into: &widened, level: level)
                    for r in Set([0, rows / 2, rows - 1]) {
                        dense.dequantizeRow(r, into: &denseRow)
                        let same = widened[(r * columns)..<((r + 1) * columns)].elementsEqual(denseRow)
                        #expect(same, "\(format) \(rows)×\(columns) \(pattern) row \(r) level \(level)")
                    }
                }
                var zeros = 0
                for r in 0..<rows {
                    dense.dequantizeRow(r, into: &denseRow)
                    zeros += denseRow.filter { $0 == 0 }.count
                }
                #expect(masked.nonzeros == rows * columns - zeros)
            }
        }
    }

    /// A masked WeightMatrix runs decode (alone and fused with others), prefill panels and row reads
    /// as the dense one does; at half the weights an F16 matrix moves 9/16 of the dense bytes.
    @Test(arguments: formats)
    func maskedMatricesRunAsDenseOnes(format: WeightMatrix.Format) {
        let columns = 256, x = testValues(5 * columns, seed: 4)
        let matrices = [61, 8, 136].enumerated().map { i, rows in
            let values = pruned(testValues(rows * columns, seed: UInt64(i)), rows: rows, columns: columns, pattern: i == 1 ? "2:4" : "x", seed: 7)
            return values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: rows, columns: columns, format: format) }
        }
        let masked = matrices.map { $0.maskedIfSparse(minimumSparsity: 0.4)! }
        for (dense, sparse) in zip(matrices, masked) {
            // Pruned Q8_0 runs in integers where the CPU has the kernel: decode, and prefill in groups of 8 rows.
            let integer = format == .q8_0 && coppice_masked_q8_integer(coppice_isa()) != 0
            #expect(sparse.masked != nil && sparse.storage.isEmpty && sparse.quantizesActivations(count: 1) == integer)
            #expect(sparse.quantizesActivations(count: 5) == (integer && dense.rows % 8 == 0))
            for t in [1, 5] {
                var expected = [Float](repeating: 0, count: t * dense.rows), y = [Float](repeating: .nan, count: t * dense.rows)
                let input = sparse.quantizesActivations(count: t) ? WeightMatrixTests().activationRoundTrip(x) : x
                dense.reference(input, count: t, into: &expected)
                sparse.multiply(x, count: t, into: &y)
                let close = allClose(y, expected, relativeTolerance: 1e-4, absoluteTolerance: 1e-4)
                #expect(close, "\(format) \(dense.rows) rows t=\(t)")
            }
        }
        var fused = [Float](repeating: .nan, count: masked.reduce(0) { $0 + $1.rows })
        fused.withUnsafeMutableBufferPointer { f in
            let outputs = [f.baseAddress!, f.baseAddress! + 61, f.baseAddress! + 69]
            masked.withUnsafeBufferPointer { ms in outputs.withUnsafeBufferPointer { WeightMatrix.multiplyVector(ms, x, into: $0) } }
        }
        var alone: [Float] = []
        for m in masked {
            var y = [Float](repeating: 0, count: m.rows)
            m.multiply(x, count: 1, into: &y)
            alone += y
        }
        let same = fused == alone
        #expect(same)
        if format == .f16 {
            let ratio = Double(masked[0].byteCount) / Double(matrices[0].byteCount)
            #expect(abs(ratio - 0.5625) < 0.03, "F16 at about half zeros moves \(ratio) of the dense bytes")
        }
    }

    /// Pruned Q8_0 rows rebuilt as ggml blocks (integer prefill's operand) hold the dense rows' values.
    @Test func q8RowsRebuildTheirBlocks() {
        let (rows, columns) = (9, 160)
        let values = pruned(testValues(rows * columns, seed: 12), rows: rows, columns: columns, pattern: "x", seed: 2)
        let dense = values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: rows, columns: columns, format: .q8_0) }
        var blocks = [UInt8](repeating: 0, count: rows * dense.rowBytes)
        blocks.withUnsafeMutableBufferPointer { MaskedWeights(dense).q8Blocks(0..<rows, into: $0.baseAddress!) }
        var rebuilt = [Float](repeating: 0, count: rows * columns), expected = rebuilt
        blocks.withUnsafeBytes { BlockQuantization.q8_0.dequantize($0, count: rows * columns, into: &rebuilt) }
        for r in 0..<rows { expected.withUnsafeMutableBufferPointer { dense.dequantizeRow(r, into: $0.baseAddress! + r * columns) } }
        #expect(rebuilt == expected)
    }

    /// Too few zeros, a width outside whole blocks of 32, or a format without masked kernels: dense.
    @Test func denseMatricesStayDense() {
        let values = testValues(64 * 96, seed: 1)
        let w = values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: 64, columns: 96, format: .f16) }
        #expect(w.maskedIfSparse(minimumSparsity: 0.3) == nil)
        let half = pruned(values, rows: 64, columns: 96, pattern: "2:4", seed: 1)
        #expect(
            half.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: 64, columns: 96, format: .q4_0) }.maskedIfSparse(minimumSparsity: 0.3)
                == nil)
        #expect(
            half.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: 64, columns: 96, format: .f16) }.maskedIfSparse(minimumSparsity: 0.3) != nil
        )
        // Over 64 rows a sample of rows decides "dense" first (loading a dense file reads 64 rows of
        // each matrix, not all); sparse ones are still counted whole.
        let tall = testValues(200 * 96, seed: 3)
        #expect(
            tall.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: 200, columns: 96, format: .f16) }.maskedIfSparse(minimumSparsity: 0.3)
                == nil)
        let tallPruned = pruned(tall, rows: 200, columns: 96, pattern: "2:4", seed: 1)
        let masked = tallPruned.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: 200, columns: 96, format: .f16) }.maskedIfSparse(
            minimumSparsity: 0.3)
        #expect(masked?.masked?.nonzeros == 200 * 48)
        let odd = pruned(testValues(8 * 36, seed: 2), rows: 8, columns: 36, pattern: "2:4", seed: 1)
        #expect(
            odd.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: 8, columns: 36, format: .f32) }.maskedIfSparse(minimumSparsity: 0.3) == nil)
    }
}
