extension WeightMatrix {
    /// Up to `fewRows` activation rows (a batched decode step's) times F32, F16 or BF16 rows: each
    /// thread takes runs of rows small enough to stay in L2 (64 KB) past every row's activations with
    /// the decode kernels, so the weights stream from memory once for all of them. The panel path
    /// widens every matrix to F32 before its GEMM, which for a handful of rows cost more than the
    /// products: 2 streams of a 1B F16 model decoded at 5.8 tokens/s against 8.4 for one.
    static let fewRows = 8

    func multiplyFewRows(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let unit = interleaved ? 8 : 1, run = max(unit, 65_536 / rowBytes / unit * unit), runs = (rows + run - 1) / run
        storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            pool.parallelRanges(runs, grain: 1) { range in
                for r in range {
                    let span = (r * run)..<min((r + 1) * run, self.rows)
                    for i in 0..<t { self.multiplyRows(span, base, x + i * self.columns, nil, into: y + i * self.rows) }
                }
            }
        }
    }
}
