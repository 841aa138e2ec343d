import CCPUDispatch
import CQuantizedDot

extension WeightMatrix {
    /// Whether `multiply` with `t` activation rows rounds them to BF16 first, as llama.cpp does for
    /// BF16 weights: dense BF16 rows on a CPU with AVX512-BF16, in prefill (`multiplyBF16`) and in
    /// decode's rows (`coppice_bf16_rows_available`).
    public func roundsActivationsToBF16(count t: Int) -> Bool {
        guard format == .bf16 && masked == nil else { return false }
        return t > Self.fewRows ? coppice_bf16_product_available() != 0 : Self.integerKernelsAvailable && coppice_bf16_rows_available() != 0
    }

    /// y[t × rows] = x[t × columns] · Wᵀ for BF16 weights with the CPU's BF16 dot products
    /// (`coppice_bf16_multiply`): x rounded to BF16 once, as llama.cpp multiplies BF16
    /// weights, then panels of 64 rows in pieces across the pool (four a thread, for a VM's uneven cores).
    func multiplyBF16(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let pairs = (columns + 1) / 2, bytes = t * pairs * MemoryLayout<UInt32>.stride
        let rounded = BufferCache.shared.allocate(byteCount: bytes).bindMemory(to: UInt32.self, capacity: t * pairs)
        defer { BufferCache.shared.deallocate(UnsafeMutableRawPointer(rounded), byteCount: bytes) }
        coppice_bf16_round_activations(x, t, columns, rounded)
        inPanelPieces(pool: pool) { weights, first, count in
            coppice_bf16_multiply(coppice_isa(), weights, self.interleaved ? 1 : 0, self.columns, first, count, rounded, t, y, self.rows)
        }
    }

    /// `body(weights, first row, row count)` over the 16-bit rows in panels of 64, in pieces across the
    /// pool (four a thread, for a VM's uneven cores): the BF16 and F16 prefill kernels' split.
    func inPanelPieces(pool: ThreadPool, _ body: @escaping (UnsafePointer<UInt16>, Int, Int) -> Void) {
        let panels = (rows + 63) / 64, pieces = min(panels, pool.threadCount * 4)
        storage.withUnsafeBytes { raw in
            let weights = raw.baseAddress!.assumingMemoryBound(to: UInt16.self)
            pool.parallelFor(pieces) { piece in
                let range = ThreadPool.range(of: piece, in: pieces, count: panels)
                let first = 64 * range.lowerBound
                body(weights, first, min(64 * range.upperBound, self.rows) - first)
            }
        }
    }
}
