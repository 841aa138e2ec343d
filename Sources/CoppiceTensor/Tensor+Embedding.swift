import CoppiceKernels

// Embedding lookups. Indices usually come from data files, so they are validated and errors thrown.

public enum EmbeddingBagMode: String, Codable, Sendable, CaseIterable { case sum, mean }

extension Tensor {
    /// Rows `indices` of this [rows, d] table, as [indices.count, d].
    /// With `sparseGradient` and a table that is a leaf of the tape, the backward pass leaves a
    /// `RowSparseGradient` on the table instead of a dense one.
    public func embedding(_ indices: [Int], sparseGradient: Bool = false) throws(TensorError) -> Tensor {
        let packed = try validated(indices)
        let d = shape[1]
        var out = Tensor(uninitializedShape: [indices.count, d])
        let table = contiguous()
        defer { withExtendedLifetime(table) {} }
        packed.withUnsafeBufferPointer {
            EmbeddingKernels.gather(
                table.storage.pointer + table.offset, dimension: d, indices: $0.baseAddress!,
                count: indices.count, out.storage.pointer)
        }
        out.node = nil
        let rows = shape[0]
        return tableOp(out, sparse: sparseGradient, rows: rows, d: d, sparseRows: { g in (indices, g.scalars) }) { g in
            var grad = Tensor.zeros([rows, d])
            let gc = g.contiguous()
            defer { withExtendedLifetime(gc) {} }
            packed.withUnsafeBufferPointer { idx in
                grad.withUnsafeMutableBufferPointer {
                    EmbeddingKernels.scatterAdd(
                        gc.storage.pointer + gc.offset, dimension: d, indices: idx.baseAddress!,
                        count: indices.count, $0.baseAddress!)
                }
            }
            return grad
        }
    }

    /// Pooled rows per bag (PyTorch's EmbeddingBag): bag b holds `indices[offsets[b]..<offsets[b+1]]`
    /// (the last bag runs to the end); the result is [offsets.count, d].
    public func embeddingBag(
        _ indices: [Int], offsets: [Int], mode: EmbeddingBagMode = .sum,
        sparseGradient: Bool = false
    ) throws(TensorError) -> Tensor {
        let packed = try validated(indices)
        guard offsets.first.map({ $0 == 0 }) ?? indices.isEmpty,
            zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }), (offsets.last ?? 0) <= indices.count
        else {
            throw .indexOutOfRange("bag offsets must start at 0 and rise to at most \(indices.count), got \(offsets.prefix(8))")
        }
        let packedOffsets = offsets.map { Int32($0) }
        let d = shape[1], bags = offsets.count
        let kernelMode: EmbeddingKernels.Mode = mode == .sum ? .sum : .mean
        var out = Tensor(uninitializedShape: [bags, d])
        let table = contiguous()
        defer { withExtendedLifetime(table) {} }
        packed.withUnsafeBufferPointer { idx in
            packedOffsets.withUnsafeBufferPointer { off in
                EmbeddingKernels.forward(
                    table.storage.pointer + table.offset, dimension: d, indices: idx.baseAddress!,
                    count: indices.count, offsets: off.baseAddress!, bags: bags, mode: kernelMode,
                    out.storage.pointer)
            }
        }
        out.node = nil
        let rows = shape[0]
        let sparseRows = { (g: Tensor) -> ([Int], [Float]) in
            let gv = g.scalars
            var values = [Float](repeating: 0, count: indices.count * d)
            for b in 0..<bags {
                let end = b + 1 < bags ? offsets[b + 1] : indices.count
                let scale: Float = mode == .mean && end > offsets[b] ? 1 / Float(end - offsets[b]) : 1
                for j in offsets[b]..<end {
                    for c in 0..<d { values[j * d + c] = gv[b * d + c] * scale }
                }
            }
            return (indices, values)
        }
        return tableOp(out, sparse: sparseGradient, rows: rows, d: d, sparseRows: sparseRows) { g in
            var grad = Tensor.zeros([rows, d])
            let gc = g.contiguous()
            defer { withExtendedLifetime(gc) {} }
            packed.withUnsafeBufferPointer { idx in
                packedOffsets.withUnsafeBufferPointer { off in
                    grad.withUnsafeMutableBufferPointer {
                        EmbeddingKernels.backward(
                            gc.storage.pointer + gc.offset, dimension: d, indices: idx.baseAddress!,
                            count: indices.count, offsets: off.baseAddress!, bags: bags,
                            mode: kernelMode, $0.baseAddress!)
                    }
                }
            }
            return grad
        }
    }

    /// The gradient accumulated row-sparsely on a leaf table by sparse embedding lookups.
    public var sparseGrad: RowSparseGradient? { node?.sparseGrad }

    private func validated(_ indices: [Int]) throws(TensorError) -> [Int32] {
        guard rank == 2 else { throw .invalidShape(shape, reason: "an embedding table must be [rows, dimension]") }
        let rows = shape[0]
        var packed = [Int32](repeating: 0, count: indices.count)
        for (i, index) in indices.enumerated() {
            guard index >= 0 && index < rows else {
                throw .indexOutOfRange("embedding index \(index) at position \(i) for a table of \(rows) rows")
            }
            packed[i] = Int32(index)
        }
        return packed
    }

    private func tableOp(
        _ out: Tensor, sparse: Bool, rows: Int, d: Int,
        sparseRows: @escaping (Tensor) -> ([Int], [Float]),
        dense: @escaping (Tensor) -> Tensor
    ) -> Tensor {
        guard sparse, let leaf = node, leaf.isLeaf else {
            return Tensor.differentiable(out, inputs: [self]) { g in [dense(g)] }
        }
        // The table's gradient goes straight to the leaf as rows; the tape sees no dense gradient.
        return Tensor.differentiable(out, inputs: [self]) { g in
            let (indices, values) = sparseRows(g)
            var existing = leaf.sparseGrad ?? RowSparseGradient(rowCount: rows, dimension: d)
            existing.indices += indices
            existing.values += values
            leaf.sparseGrad = existing
            return [nil]
        }
    }
}
