import CoppiceKernels

extension LlamaRuntime {
    /// The share of zeros from which `--sparse auto` runs a matrix from its nonzeros (`MaskedWeights`).
    /// A 1B F16 file pruned to 30% decoded 1.24× faster masked (12.2–12.4 against 9.8–10.0 tokens/s,
    /// Intel Xeon 6/207, 2 threads): the bytes fell 19%, and the kernels keep up with memory.
    public static let sparseThreshold = 0.25

    /// Every block matrix, and the output head (with the embedding it is tied to), that has at least
    /// `minimumSparsity` zeros and a format and width `MaskedWeights` supports, stored masked: a
    /// pruned model's decode then reads only its nonzeros. Returns how many matrices were masked.
    @discardableResult
    public func maskSparseMatrices(minimumSparsity: Double = LlamaRuntime.sparseThreshold) -> Int {
        let sites = layers.indices.flatMap { l in Self.matrixSites.map { (l, $0.name) } }
        var masked = [WeightMatrix?](repeating: nil, count: sites.count + 1)
        masked.withUnsafeMutableBufferPointer { out in
            let results = out
            // Matrices pack independently: one task each (the output head last, the largest alone).
            pool.parallelFor(sites.count + 1) { i in
                let m = i < sites.count ? self.matrix(layer: sites[i].0, sites[i].1) : self.output
                results[i] = m.maskedIfSparse(minimumSparsity: minimumSparsity)
            }
        }
        for (i, (l, name)) in sites.enumerated() { if let m = masked[i] { replace(layer: l, name, with: m) } }
        if let head = masked[sites.count] {
            if tiedEmbedding { embedding = head }
            output = head
        }
        return masked.compactMap { $0 }.count
    }

    /// Whether the output head is the embedding matrix itself (tied embeddings: one storage).
    private var tiedEmbedding: Bool {
        guard output.masked == nil, embedding.masked == nil else { return false }
        return output.storage.withUnsafeBytes { o in embedding.storage.withUnsafeBytes { $0.baseAddress == o.baseAddress } }
    }

    /// Matrices stored masked, of the seven per block and the output head.
    public var maskedMatrixCount: Int {
        layers.reduce(output.masked == nil ? 0 : 1) { count, layer in
            count + layer.matrices.filter { $0.masked != nil }.count
        }
    }

    /// Bytes of weights one decode step reads: every block's seven matrices, the output head and one
    /// embedding row. Decode runs at about memory bandwidth / this.
    public var weightBytesPerToken: Int {
        let blocks = layers.reduce(0) { sum, layer in sum + layer.matrices.reduce(0) { $0 + $1.byteCount } }
        return blocks + output.byteCount + embedding.byteCount / max(1, embedding.rows)
    }
}
