import CCPUDispatch
import CoppiceKernels
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct BlockSparseTests {
    /// A dense matrix where whole r×c blocks are zero with probability `sparsity`.
    func blockSparse(rows: Int, columns: Int, r: Int, c: Int, sparsity: Float, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        let blockColumns = (columns + c - 1) / c
        let keep = (0..<(((rows + r - 1) / r) * blockColumns)).map { _ in rng.nextUniform() >= sparsity }
        return testValues(rows * columns, seed: seed).enumerated().map { i, v in keep[(i / columns / r) * blockColumns + (i % columns) / c] ? v : 0 }
    }

    @Test(arguments: [Float(0), 0.5, 0.99, 1])
    func blockCSRMatchesReference(sparsity: Float) {
        for (rows, columns, r, c) in [(1, 1, 1, 1), (7, 9, 2, 4), (33, 130, 4, 4), (130, 33, 8, 1)] {
            let dense = blockSparse(rows: rows, columns: columns, r: r, c: c, sparsity: sparsity, seed: UInt64(rows + columns))
            let bsr = dense.withUnsafeBufferPointer {
                BlockCSRMatrix(dense: $0.baseAddress!, rows: rows, columns: columns, blockRows: r, blockColumns: c)
            }
            #expect(bsr.densified() == dense)
            for batch in [1, 3, 17, 130] {
                let x = testValues(columns * batch, seed: 2)
                var fast = [Float](repeating: .nan, count: rows * batch), slow = fast, twin = fast
                SparseProduct.spmm(bsr, x, &fast, batch: batch)
                SparseProduct.reference(bsr, x, &twin, batch: batch)
                Gemm.reference(.none, .none, m: rows, n: batch, k: columns, dense, lda: columns, x, ldb: batch, &slow, ldc: batch)
                #expect(allClose(fast, twin, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "\(rows)×\(columns) \(r)×\(c) batch \(batch)")
                #expect(allClose(twin, slow, relativeTolerance: 1e-5, absoluteTolerance: 1e-5))
                // Every dispatched level this CPU runs, not only the one the product chose.
                for level in CPU.ISALevel.allCases where level <= CPU.supportedISA {
                    var y = [Float](repeating: .nan, count: rows * batch), scratch = [Float](repeating: .nan, count: r * batch)
                    bsr.values.withUnsafeBufferPointer { values in
                        coppice_bsr_block_rows(
                            Int32(level.rawValue), values.baseAddress, bsr.blockStarts, bsr.blockColumnIndices, r, c, rows, columns, 0,
                            bsr.blockStarts.count - 1, x, batch, &y, &scratch)
                    }
                    #expect(allClose(y, twin, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "\(level) \(rows)×\(columns) batch \(batch)")
                }
            }
        }
    }

    @Test func packedNMMatchesReferenceAndRejectsDenserRows() {
        for (rows, columns, n, m) in [(1, 4, 2, 4), (7, 16, 2, 4), (33, 128, 4, 8), (130, 32, 1, 4)] {
            var rng = RandomGenerator(seed: UInt64(rows))
            // Keep the n largest of every group of m, as N:M pruning does.
            var dense = testValues(rows * columns, seed: UInt64(columns))
            for start in stride(from: 0, to: dense.count, by: m) {
                let order = (start..<(start + m)).sorted { Swift.abs(dense[$0]) > Swift.abs(dense[$1]) }
                for i in order.dropFirst(n) { dense[i] = 0 }
                if rng.nextUniform() < 0.2 { dense[order[0]] = 0 }
            }
            guard let nm = dense.withUnsafeBufferPointer({ NMSparseMatrix(dense: $0.baseAddress!, rows: rows, columns: columns, n: n, m: m) }) else {
                Issue.record("\(n):\(m) matrix was not packed"); continue
            }
            #expect(nm.densified() == dense)
            for batch in [1, 5, 130] {
                let x = testValues(columns * batch, seed: 3)
                var fast = [Float](repeating: .nan, count: rows * batch), slow = fast
                SparseProduct.spmm(nm, x, &fast, batch: batch)
                Gemm.reference(.none, .none, m: rows, n: batch, k: columns, dense, lda: columns, x, ldb: batch, &slow, ldc: batch)
                #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "\(rows)×\(columns) \(n):\(m) batch \(batch)")
            }
        }
        let full: [Float] = [1, 2, 3, 0]
        #expect(full.withUnsafeBufferPointer { NMSparseMatrix(dense: $0.baseAddress!, rows: 1, columns: 4, n: 2, m: 4) } == nil)
    }
}
