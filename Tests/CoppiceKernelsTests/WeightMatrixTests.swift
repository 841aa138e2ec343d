import CoppiceKernels
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct WeightMatrixTests {
    /// Every storage format against its definition (dequantized rows times x), for one activation
    /// row (the SIMD dot products) and several (dequantized panels through BLAS), on odd row counts,
    /// partial panels and, for F32/F16, columns that are not a multiple of the vector width.
    @Test(arguments: WeightMatrix.Format.allCases)
    func productsMatchTheDefinition(format: WeightMatrix.Format) {
        for (rows, columns) in [(1, 32), (67, 96), (130, 64)] + (format == .f32 || format == .f16 ? [(5, 37)] : []) {
            let values = testValues(rows * columns, seed: UInt64(rows + columns))
            let w = values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: rows, columns: columns, format: format) }
            #expect(w.storage.count == rows * w.rowBytes)
            for t in [1, 3, 70] {
                let x = testValues(t * columns, seed: 11)
                var fast = [Float](repeating: .nan, count: t * rows), slow = fast
                w.multiply(x, count: t, into: &fast)
                w.reference(x, count: t, into: &slow)
                #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "\(format) \(rows)×\(columns) t=\(t)")
            }
            if format == .f32 {
                var row = [Float](repeating: 0, count: columns)
                w.dequantizeRow(rows - 1, into: &row)
                #expect(row == Array(values.suffix(columns)))
            }
        }
    }
}
