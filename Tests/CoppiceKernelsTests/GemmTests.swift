import CoppiceKernels
import CoppiceTestSupport
import Testing

@Suite struct GemmTests {
    static let sizes = [1, 3, 7, 33, 130]

    @Test(arguments: [(Gemm.Transpose.none, Gemm.Transpose.none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)])
    func computeMatchesReferenceOnOddSizes(transA: Gemm.Transpose, transB: Gemm.Transpose) {
        for m in Self.sizes {
            for n in Self.sizes {
                for k in [1, 7, 130] {
                    let a = testValues(m * k, seed: 1), b = testValues(k * n, seed: 2), c0 = testValues(m * n, seed: 3)
                    let lda = transA == .none ? k : m, ldb = transB == .none ? n : k
                    var fast = c0, slow = c0
                    Gemm.compute(transA, transB, m: m, n: n, k: k, alpha: 0.5, a, lda: lda, b, ldb: ldb, beta: 2, &fast, ldc: n)
                    Gemm.reference(transA, transB, m: m, n: n, k: k, alpha: 0.5, a, lda: lda, b, ldb: ldb, beta: 2, &slow, ldc: n)
                    #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "m=\(m) n=\(n) k=\(k) \(transA) \(transB)")
                }
            }
        }
    }

    @Test func largeProductsSplitAcrossThreadsMatchReference() {
        let (m, n, k) = (130, 260, 70)
        let a = testValues(m * k, seed: 4), b = testValues(k * n, seed: 5)
        var fast = [Float](repeating: 0, count: m * n), slow = fast
        Gemm.compute(.none, .none, m: m, n: n, k: k, a, lda: k, b, ldb: n, &fast, ldc: n)
        Gemm.reference(.none, .none, m: m, n: n, k: k, a, lda: k, b, ldb: n, &slow, ldc: n)
        #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
        var tall = [Float](repeating: 0, count: n * m), tallReference = tall
        Gemm.compute(.transposed, .transposed, m: n, n: m, k: k, b, lda: n, a, ldb: k, &tall, ldc: m)
        Gemm.reference(.transposed, .transposed, m: n, n: m, k: k, b, lda: n, a, ldb: k, &tallReference, ldc: m)
        #expect(allClose(tall, tallReference, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
    }

    @Test func vectorShapesRouteToGemvAndMatchReference() {
        for (m, n) in [(1, 33), (33, 1), (1, 1)] {
            for transA in [Gemm.Transpose.none, .transposed] {
                for transB in [Gemm.Transpose.none, .transposed] {
                    let k = 17
                    let a = testValues(m * k, seed: 6), b = testValues(k * n, seed: 7)
                    let lda = transA == .none ? k : m, ldb = transB == .none ? n : k
                    var fast = testValues(m * n, seed: 8), slow = fast
                    Gemm.blas(transA, transB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, beta: 1, &fast, ldc: n)
                    Gemm.reference(transA, transB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, beta: 1, &slow, ldc: n)
                    #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "m=\(m) n=\(n) \(transA) \(transB)")
                }
            }
        }
    }

    @Test func emptyInnerDimensionScalesOutput() {
        var c: [Float] = [1, 2, 3, 4]
        let empty: [Float] = [0]
        Gemm.compute(.none, .none, m: 2, n: 2, k: 0, empty, lda: 1, empty, ldb: 2, beta: 0.5, &c, ldc: 2)
        #expect(c == [0.5, 1, 1.5, 2])
    }

    @Test func batchedMatchesPerBatchReference() {
        let (batch, m, n, k) = (5, 7, 3, 33)
        let a = testValues(batch * m * k, seed: 9), b = testValues(batch * k * n, seed: 10)
        var fast = [Float](repeating: 0, count: batch * m * n), slow = fast
        Gemm.batched(
            .none, .transposed, batch: batch, m: m, n: n, k: k, a, lda: k, strideA: m * k,
            b, ldb: k, strideB: k * n, &fast, ldc: n, strideC: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                slow.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<batch {
                        Gemm.reference(
                            .none, .transposed, m: m, n: n, k: k, pa.baseAddress! + i * m * k, lda: k,
                            pb.baseAddress! + i * k * n, ldb: k, pc.baseAddress! + i * m * n, ldc: n)
                    }
                }
            }
        }
        #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
    }
}
