import CCPUDispatch

extension WeightMatrix {
    /// Whether `multiply` with more than `fewRows` activation rows runs the F16 panel kernel
    /// (`coppice_f16_multiply`, AVX-512) instead of widening rows for BLAS.
    var multipliesF16Panels: Bool { format == .f16 && masked == nil && coppice_f16_product_available() != 0 }

    /// y[t × rows] = x[t × columns] · Wᵀ for F16 weights on an AVX-512 CPU (`coppice_f16_multiply`):
    /// 64-row panels widened once into the kernel's layout, in pieces across the pool (four a thread).
    func multiplyF16(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        inPanelPieces(pool: pool) { weights, first, count in
            coppice_f16_multiply(coppice_isa(), weights, self.interleaved ? 1 : 0, self.columns, first, count, x, t, y, self.rows)
        }
    }
}
