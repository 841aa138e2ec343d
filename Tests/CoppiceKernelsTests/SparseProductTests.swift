import CoppiceKernels
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct SparseProductTests {
    /// A dense matrix with about `sparsity` of its entries exactly zero.
    func sparseValues(rows: Int, columns: Int, sparsity: Float, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return testValues(rows * columns, seed: seed).map { rng.nextUniform() < sparsity ? 0 : $0 }
    }

    @Test(arguments: [Float(0), 0.5, 0.99, 1])
    func csrProductsMatchReferenceOnOddShapes(sparsity: Float) {
        for (rows, columns) in [(1, 1), (3, 7), (33, 130), (130, 33), (257, 300)] {
            let dense = sparseValues(rows: rows, columns: columns, sparsity: sparsity, seed: UInt64(rows * 31 + columns))
            let csr = dense.withUnsafeBufferPointer { CSRMatrix(dense: $0.baseAddress!, rows: rows, columns: columns) }
            #expect(csr.densified() == dense)
            #expect(csr.nonzeroCount == dense.filter { $0 != 0 }.count)
            for batch in [1, 3, 16, 17, 130, 150] {
                let x = testValues(columns * batch, seed: 5)
                var fast = [Float](repeating: .nan, count: rows * batch), slow = fast, blas = fast
                SparseProduct.spmm(csr, x, &fast, batch: batch)
                SparseProduct.reference(csr, x, &slow, batch: batch)
                #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "\(rows)×\(columns) batch \(batch)")
                Gemm.reference(.none, .none, m: rows, n: batch, k: columns, dense, lda: columns, x, ldb: batch, &blas, ldc: batch)
                #expect(allClose(fast, blas, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
            }
        }
    }

    /// The row-major Linear kernel (panels of 64 batch rows, threads over panels, or over rows when
    /// one panel is the whole batch) against its definition, with and without bias, on batches that
    /// leave partial panels.
    @Test(arguments: [Float(0), 0.7, 1])
    func sparseLinearKernelMatchesReference(sparsity: Float) {
        for (rows, columns) in [(1, 1), (33, 7), (257, 130), (600, 701)] {
            let dense = sparseValues(rows: rows, columns: columns, sparsity: sparsity, seed: UInt64(rows + columns))
            let csr = dense.withUnsafeBufferPointer { CSRMatrix(dense: $0.baseAddress!, rows: rows, columns: columns) }
            let bias = testValues(rows, seed: 2)
            for batch in [1, 5, 37, 64, 65, 300] {
                let x = testValues(columns * batch, seed: 9)
                for withBias in [false, true] {
                    var fast = [Float](repeating: .nan, count: rows * batch), slow = fast
                    bias.withUnsafeBufferPointer { b in
                        SparseLinearKernel.forward(csr, x, batch: batch, bias: withBias ? b.baseAddress! : nil, &fast)
                        SparseLinearKernel.reference(csr, x, batch: batch, bias: withBias ? b.baseAddress! : nil, &slow)
                    }
                    #expect(
                        allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "\(rows)×\(columns) batch \(batch) bias \(withBias)")
                }
            }
        }
    }

    @Test func largeProductsSplitByNonzerosMatchReference() {
        let (rows, columns) = (300, 500)
        let dense = sparseValues(rows: rows, columns: columns, sparsity: 0.7, seed: 9)
        let csr = dense.withUnsafeBufferPointer { CSRMatrix(dense: $0.baseAddress!, rows: rows, columns: columns) }
        #expect(csr.nonzeroCount >= SparseProduct.parallelThreshold)
        for batch in [1, 128] {
            let x = testValues(columns * batch, seed: 10)
            var fast = [Float](repeating: 0, count: rows * batch), slow = fast
            SparseProduct.spmm(csr, x, &fast, batch: batch)
            SparseProduct.reference(csr, x, &slow, batch: batch)
            #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
        }
    }
}
