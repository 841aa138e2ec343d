import CQuantizedDot

extension WeightMatrix {
    /// Prefill with interleaved Q8_0 / Q4_0: the `t` activation rows quantized to int8 blocks once,
    /// then integer products of 8 weight rows × 4 tokens at a time (`coppice_q4_0x8_multiply`, `coppice_q8_0x8_multiply`), the
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
            let base = raw.baseAddress!, groupBytes = 8 * rowBytes
            // One contiguous run of groups per thread; each group reads every token once (from cache).
            pool.parallelRanges(groups, grain: 1) { range in
                self.multiplyGroups(base + range.lowerBound * groupBytes, count: range.count, tokens: t, scales, values, sums,
                                    into: y + 8 * range.lowerBound)
            }
        }
    }

    /// y[i · rows + r] for the `count` interleaved groups of 8 rows at `groups` and `tokens` rows of
    /// quantized activations.
    func multiplyGroups(_ groups: UnsafeRawPointer, count: Int, tokens: Int, _ scales: UnsafePointer<Float>, _ values: UnsafePointer<Int8>,
                        _ sums: UnsafePointer<Int32>, into y: UnsafeMutablePointer<Float>) {
        let blocks = Int32(columns / BlockQuantization.blockSize), bytes = groups.assumingMemoryBound(to: UInt8.self)
        if format == .q4_0 {
            coppice_q4_0x8_multiply(blocks, bytes, Int32(count), Int32(tokens), scales, values, sums, y, rows)
        } else {
            coppice_q8_0x8_multiply(blocks, bytes, Int32(count), Int32(tokens), scales, values, y, rows)
        }
    }
}
