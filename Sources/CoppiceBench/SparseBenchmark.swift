import CoppiceKernels
import CoppiceRuns
import CoppiceTensor

/// `coppice bench sparse`: CSR SpMV/SpMM against dense OpenBLAS on the same weight, shapes and layout
/// (Yᵀ[out × batch] = W[out × in] · Xᵀ[in × batch]), with unstructured random sparsity, in one run.
public struct SparseBenchmark {
    public var budget: Double
    public var shapes: [(out: Int, in: Int)] = [(512, 512), (4096, 4096), (4096, 1024)]
    public var sparsities: [Double] = [0.5, 0.7, 0.8, 0.9, 0.95]
    public var batches: [Int] = [1, 16, 128]

    public init(budget: Double = 0.3) { self.budget = budget }

    public func run(progress: (String) -> Void = { _ in }) -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        var rng = RandomGenerator(seed: 7)
        for (rows, columns) in shapes {
            progress("\(rows)x\(columns)")
            let dense = Tensor.normal([rows, columns], using: &rng).scalars
            let keep = (0..<(rows * columns)).map { _ in rng.nextUniform() }
            for batch in batches {
                let x = Tensor.normal([columns, batch], using: &rng).scalars
                var y = [Float](repeating: 0, count: rows * batch)
                let denseSeconds = Stopwatch.median(budget: budget) {
                    Gemm.compute(.none, .none, m: rows, n: batch, k: columns, dense, lda: columns, x, ldb: batch, &y, ldc: batch)
                }
                for sparsity in sparsities {
                    let masked = zip(dense, keep).map { $1 < Float(sparsity) ? 0 : $0 }
                    let csr = masked.withUnsafeBufferPointer { CSRMatrix(dense: $0.baseAddress!, rows: rows, columns: columns) }
                    let sparseSeconds = Stopwatch.median(budget: budget) {
                        SparseProduct.spmm(csr, x, &y, batch: batch)
                    }
                    let name = "\(rows)x\(columns) batch \(batch) sparsity \(Int(sparsity * 100))%"
                    results += [
                        .init(suite: "sparse", case: name, metric: "dense time", unit: "ms", value: denseSeconds * 1e3),
                        .init(suite: "sparse", case: name, metric: "CSR time", unit: "ms", value: sparseSeconds * 1e3),
                        .init(suite: "sparse", case: name, metric: "speedup", unit: "x", value: denseSeconds / sparseSeconds),
                    ]
                }
                results += structured(
                    dense: dense, keep: keep, rows: rows, columns: columns, batch: batch, x: x,
                    denseSeconds: denseSeconds)
            }
        }
        return results
    }

    /// 2:4 in the packed N:M format, and 90% in 4×4 blocks in BSR, on the same weight and batch.
    private func structured(
        dense: [Float], keep: [Float], rows: Int, columns: Int, batch: Int, x: [Float],
        denseSeconds: Double
    ) -> [BenchmarkResult] {
        var y = [Float](repeating: 0, count: rows * batch)
        var twoOfFour = dense
        for start in stride(from: 0, to: dense.count, by: 4) {
            let order = (start..<(start + 4)).sorted { abs(dense[$0]) > abs(dense[$1]) }
            for i in order.dropFirst(2) { twoOfFour[i] = 0 }
        }
        var results: [BenchmarkResult] = []
        if let nm = twoOfFour.withUnsafeBufferPointer({ NMSparseMatrix(dense: $0.baseAddress!, rows: rows, columns: columns, n: 2, m: 4) }) {
            let seconds = Stopwatch.median(budget: budget) { SparseProduct.spmm(nm, x, &y, batch: batch) }
            let name = "\(rows)x\(columns) batch \(batch) 2:4 (N:M format)"
            results += [
                .init(suite: "sparse", case: name, metric: "time", unit: "ms", value: seconds * 1e3),
                .init(suite: "sparse", case: name, metric: "speedup", unit: "x", value: denseSeconds / seconds),
            ]
        }
        let blockColumns = (columns + 3) / 4
        let blocked = dense.enumerated().map { i, v in keep[((i / columns) / 4) * blockColumns + (i % columns) / 4] < 0.9 ? 0 : v }
        let bsr = blocked.withUnsafeBufferPointer {
            BlockCSRMatrix(dense: $0.baseAddress!, rows: rows, columns: columns, blockRows: 4, blockColumns: 4)
        }
        let seconds = Stopwatch.median(budget: budget) { SparseProduct.spmm(bsr, x, &y, batch: batch) }
        let name = "\(rows)x\(columns) batch \(batch) 90% in 4x4 blocks (BSR)"
        results += [
            .init(suite: "sparse", case: name, metric: "time", unit: "ms", value: seconds * 1e3),
            .init(suite: "sparse", case: name, metric: "speedup", unit: "x", value: denseSeconds / seconds),
        ]
        return results
    }
}
