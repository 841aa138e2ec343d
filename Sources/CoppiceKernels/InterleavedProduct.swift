import CQuantizedDot

extension WeightMatrix {
    /// Prefill with interleaved Q8_0 / Q4_0: the `t` activation rows quantized to int8 blocks once,
    /// then integer products of 8 weight rows × 4 tokens at a time (`coppice_q4_0x8_multiply`, `coppice_q8_0x8_multiply`), the
    /// groups of 8 rows split over the pool's threads. No F32 copy of the weights is made.
    func multiplyInterleaved(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let blocks = columns / BlockQuantization.blockSize, groups = rows / 8
        // One buffer, reused through the cache: scales, sums, values and values + 128 (the Q8_0 VNNI
        // kernel's operand, made once here rather than in every thread's call).
        let bytes = t * blocks * 8 + 2 * t * columns, buffer = BufferCache.shared.allocate(byteCount: bytes)
        defer { BufferCache.shared.deallocate(buffer, byteCount: bytes) }
        let scales = buffer.bindMemory(to: Float.self, capacity: t * blocks)
        let sums = (buffer + 4 * t * blocks).bindMemory(to: Int32.self, capacity: t * blocks)
        let values = (buffer + 8 * t * blocks).bindMemory(to: Int8.self, capacity: t * columns)
        let shifted = (buffer + 8 * t * blocks + t * columns).bindMemory(to: UInt8.self, capacity: t * columns)
        pool.parallelRanges(t, grain: max(1, 1 << 14 / columns)) { tokens in
            for i in tokens {
                BlockQuantization.quantizeActivations(
                    x + i * columns, count: columns, scales: scales + i * blocks,
                    values: values + i * columns, sums: sums + i * blocks)
                if self.format == .q8_0 { coppice_shift_activations(values + i * columns, self.columns, shifted + i * self.columns) }
            }
        }
        if let masked {
            // A pruned Q8_0 matrix: its groups rebuilt as Q8_0 blocks and interleaved, a few at a time
            // in a per-task buffer, then multiplied as the dense groups are.
            let groupBytes = 8 * rowBytes, chunk = 8
            pool.parallelRanges(groups, grain: 1) { range in
                let bytes = 2 * chunk * groupBytes, scratch = BufferCache.shared.allocate(byteCount: bytes)
                defer { BufferCache.shared.deallocate(scratch, byteCount: bytes) }
                let rowsBuffer = scratch.bindMemory(to: UInt8.self, capacity: bytes), grouped = rowsBuffer + chunk * groupBytes
                for first in stride(from: range.lowerBound, to: range.upperBound, by: chunk) {
                    let count = min(chunk, range.upperBound - first)
                    masked.q8Blocks((8 * first)..<(8 * (first + count)), into: rowsBuffer)
                    coppice_interleave(0, Int32(8 * count), Int32(blocks), rowsBuffer, grouped)
                    self.multiplyGroups(grouped, count: count, tokens: t, scales, values, sums, shifted, into: y + 8 * first)
                }
            }
            return
        }
        storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!, groupBytes = 8 * rowBytes
            // One contiguous run of groups per thread; each group reads every token once (from cache).
            pool.parallelRanges(groups, grain: 1) { range in
                self.multiplyGroups(
                    base + range.lowerBound * groupBytes, count: range.count, tokens: t, scales, values, sums, shifted,
                    into: y + 8 * range.lowerBound)
            }
        }
    }

    /// y[i · rows + r] for the `count` interleaved groups of 8 rows at `groups` and `tokens` rows of
    /// quantized activations (`shifted`: the values + 128, read by Q8_0 only).
    func multiplyGroups(
        _ groups: UnsafeRawPointer, count: Int, tokens: Int, _ scales: UnsafePointer<Float>, _ values: UnsafePointer<Int8>,
        _ sums: UnsafePointer<Int32>, _ shifted: UnsafePointer<UInt8>, into y: UnsafeMutablePointer<Float>
    ) {
        let blocks = Int32(columns / BlockQuantization.blockSize), bytes = groups.assumingMemoryBound(to: UInt8.self)
        if format == .q4_0 {
            coppice_q4_0x8_multiply(blocks, bytes, Int32(count), Int32(tokens), scales, values, sums, y, rows)
        } else {
            coppice_q8_0x8_multiply(blocks, bytes, Int32(count), Int32(tokens), scales, values, shifted, y, rows)
        }
    }
}
