import CQuantizedDot

extension WeightMatrix {
    /// Several activation rows times Q4_1 rows: every activation row quantized once, then each thread
    /// takes runs of 16 weight rows (a few KB, kept in L1) past every token's activations (in L2), four
    /// tokens per pass (`coppice_q4_1_multiply`), so the weights stream from memory once.
    func multiplyQuantizedRows(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let blocks = columns / BlockQuantization.blockSize
        let bytes = t * blocks * 8 + t * columns, buffer = BufferCache.shared.allocate(byteCount: bytes)
        defer { BufferCache.shared.deallocate(buffer, byteCount: bytes) }
        let scales = buffer.bindMemory(to: Float.self, capacity: t * blocks)
        let sums = (buffer + 4 * t * blocks).bindMemory(to: Int32.self, capacity: t * blocks)
        let values = (buffer + 8 * t * blocks).bindMemory(to: Int8.self, capacity: t * columns)
        pool.parallelRanges(t, grain: max(1, 1 << 14 / columns)) { tokens in
            for i in tokens {
                BlockQuantization.quantizeActivations(
                    x + i * columns, count: columns, scales: scales + i * blocks, values: values + i * columns, sums: sums + i * blocks)
            }
        }
        let run = 16, runs = (rows + run - 1) / run
        storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            pool.parallelRanges(runs, grain: 1) { range in
                for r in range {
                    let first = r * run, count = min(run, self.rows - first)
                    coppice_q4_1_multiply(
                        Int32(blocks), base + first * self.rowBytes, self.rowBytes, Int32(count), Int32(t), scales, values, sums,
                        y + first, self.rows)
                }
            }
        }
    }
}
