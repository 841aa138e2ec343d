import CCPUDispatch
import CQuantizedDot

extension WeightMatrix {
    /// Up to `fewRows` activation rows (a short prompt, a batched decode step) times F32, F16 or BF16
    /// rows: register tiles of rows × tokens straight from the rows as stored
    /// (`coppice_float_multiply`), BF16 against x rounded to BF16 where the CPU has AVX512-BF16. The
    /// panel path widens every matrix to F32 before its GEMM, which for a few dozen tokens costs more
    /// than the products (a 1B F16 model's 16-token prefill: 20 tokens/s against llama.cpp's 62 on an
    /// AMD EPYC Zen 4). There, at 128 tokens the tiles still ran 78 tokens/s (F16) against the panels'
    /// 67, at 256 tokens 65 against 76.
    static let fewRows = 128

    func multiplyFewRows(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        // BF16 pairs as the prefill kernel rounds them: 2⌈columns / 2⌉ values a token.
        let pairs = format == .bf16 && coppice_bf16_rows_available() != 0 ? (columns + 1) / 2 : 0
        let rounded = pairs > 0 ? BufferCache.shared.allocate(byteCount: t * pairs * 4).bindMemory(to: UInt32.self, capacity: t * pairs) : nil
        defer { if let rounded { BufferCache.shared.deallocate(UnsafeMutableRawPointer(rounded), byteCount: t * pairs * 4) } }
        if let rounded { coppice_bf16_round_activations(x, t, columns, rounded) }
        // Pieces of whole tiles (4 rows, or an interleaved group of 8), four a thread for a VM's uneven cores.
        let unit = interleaved ? 8 : 4, units = (rows + unit - 1) / unit, pieces = min(units, pool.threadCount * 4)
        storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            let halves = rounded.map { UnsafeRawPointer($0).assumingMemoryBound(to: UInt16.self) }
            pool.parallelFor(pieces) { piece in
                let range = ThreadPool.range(of: piece, in: pieces, count: units)
                let first = unit * range.lowerBound, count = min(unit * range.upperBound, self.rows) - first
                coppice_float_multiply(
                    self.floatCode, base + first * self.rowBytes, self.rowBytes, self.interleaved ? 1 : 0, Int32(count), Int32(self.columns),
                    x, halves, Int32(t), y + first, self.rows)
            }
        }
    }
}
