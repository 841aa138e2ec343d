import CQuantizedDot

extension WeightMatrix {
    /// Prefill with interleaved Q4_0: the `t` activation rows quantized to int8 blocks once, then
    /// integer products of 8 weight rows × 4 tokens at a time (`coppice_q4_0x8_multiply`), the
    /// groups of 8 rows split over the pool's threads. No F32 copy of the weights is made.
    func multiplyInterleaved(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let blocks = columns / BlockQuantization.blockSize, groups = rows / 8
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: t * blocks)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: t * blocks)
        let values = UnsafeMutablePointer<Int8>.allocate(capacity: t * columns)
        defer { scales.deallocate(); sums.deallocate(); values.deallocate() }
        pool.parallelRanges(t, grain: max(1, 1 << 14 / columns)) { tokens in
            for i in tokens {
                BlockQuantization.quantizeActivations(x + i * columns, count: columns, scales: scales + i * blocks,
                                                      values: values + i * columns, sums: sums + i * blocks)
            }
        }
        storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self), groupBytes = 8 * rowBytes
            // Several pieces per thread: the tokens' activations are read once per group of 8 rows.
            pool.parallelRanges(groups, grain: 1) { range in
                coppice_q4_0x8_multiply(Int32(blocks), base + range.lowerBound * groupBytes, Int32(range.count), Int32(t),
                                        scales, values, sums, y + 8 * range.lowerBound, self.rows)
            }
        }
    }
}
