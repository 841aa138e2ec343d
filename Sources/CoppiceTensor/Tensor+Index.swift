// Index selection, comparisons and selection by condition.

extension Tensor {
    /// The slices at `indices` along `axis`, in that order (indices may repeat).
    public func indexSelect(_ indices: [Int], alongAxis axis: Int = 0) throws(TensorError) -> Tensor {
        let a = normalizedAxis(axis)
        for (i, index) in indices.enumerated() where index < 0 || index >= shape[a] {
            throw .indexOutOfRange("index \(index) at position \(i) for axis \(a) of size \(shape[a]) in shape \(shape)")
        }
        let (outer, length, inner) = split(at: a)
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        var newShape = shape
        newShape[a] = indices.count
        var out = Tensor(uninitializedShape: newShape)
        out.node = nil
        let source = x.storage.pointer + x.offset, target = out.storage.pointer
        indices.withUnsafeBufferPointer { picked in
            for o in 0..<outer {
                let row = target + o * picked.count * inner, from = source + o * length * inner
                if inner == 1 {
                    // Picking single elements (DLRM's lower triangle): a plain gather, no copy calls.
                    for j in 0..<picked.count { row[j] = from[picked[j]] }
                } else {
                    for j in 0..<picked.count { (row + j * inner).update(from: from + picked[j] * inner, count: inner) }
                }
            }
        }
        let original = shape
        return Tensor.differentiable(out, inputs: [self]) { g in
            let gc = g.contiguous()
            defer { withExtendedLifetime(gc) {} }
            var grad = Tensor.zeros(original)
            grad.withUnsafeMutableBufferPointer { dst in
                indices.withUnsafeBufferPointer { picked in
                    for o in 0..<outer {
                        for (j, index) in picked.enumerated() {
                            let src = gc.storage.pointer + gc.offset + (o * picked.count + j) * inner
                            let target = (o * length + index) * inner
                            for i in 0..<inner { dst[target + i] += src[i] }
                        }
                    }
                }
            }
            return [grad]
        }
    }

    /// Elements picked along `axis` by an index per position (PyTorch's `gather`): `indices` has this
    /// tensor's shape except along `axis`, where it has `indices.shape[axis]` entries.
    public func gather(alongAxis axis: Int, indices: [Int], indexShape: [Int]) throws(TensorError) -> Tensor {
        let a = normalizedAxis(axis)
        guard indexShape.count == rank, (0..<rank).allSatisfy({ $0 == a || indexShape[$0] == shape[$0] }),
            indices.count == indexShape.reduce(1, *)
        else {
            throw .shapeMismatch("gather indices of shape \(indexShape) (\(indices.count) values) for a tensor of shape \(shape) along axis \(a)")
        }
        if let bad = indices.firstIndex(where: { $0 < 0 || $0 >= shape[a] }) {
            throw .indexOutOfRange("gather index \(indices[bad]) at position \(bad) for axis \(a) of size \(shape[a])")
        }
        let (outer, length, inner) = split(at: a)
        let picks = indexShape[a]
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        var out = Tensor(uninitializedShape: indexShape)
        out.node = nil
        for o in 0..<outer {
            for j in 0..<picks {
                for i in 0..<inner {
                    let position = (o * picks + j) * inner + i
                    out.storage.pointer[position] = x.storage.pointer[x.offset + (o * length + indices[position]) * inner + i]
                }
            }
        }
        let original = shape
        return Tensor.differentiable(out, inputs: [self]) { g in
            let gv = g.scalars
            var grad = Tensor.zeros(original)
            grad.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    for j in 0..<picks {
                        for i in 0..<inner {
                            let position = (o * picks + j) * inner + i
                            dst[(o * length + indices[position]) * inner + i] += gv[position]
                        }
                    }
                }
            }
            return [grad]
        }
    }

    /// 1 where self > other (broadcasting), else 0; no gradient.
    public func isGreater(_ other: Tensor) -> Tensor { compare(other) { $0 > $1 } }
    public func isGreaterOrEqual(_ other: Tensor) -> Tensor { compare(other) { $0 >= $1 } }
    public func isLess(_ other: Tensor) -> Tensor { compare(other) { $0 < $1 } }
    public func isEqual(_ other: Tensor) -> Tensor { compare(other) { $0 == $1 } }

    private func compare(_ other: Tensor, _ predicate: (Float, Float) -> Bool) -> Tensor {
        let shape = Broadcast.shape(self.shape, other.shape)
        let a = expanded(to: shape).detached().contiguous(), b = other.expanded(to: shape).detached().contiguous()
        defer { withExtendedLifetime((a, b)) {} }
        var out = Tensor(uninitializedShape: shape)
        out.node = nil
        let pa = a.storage.pointer + a.offset, pb = b.storage.pointer + b.offset
        for i in 0..<out.count { out.storage.pointer[i] = predicate(pa[i], pb[i]) ? 1 : 0 }
        return out
    }
}

/// `a` where `condition` is nonzero, else `b` (all three broadcast together); gradients flow to the
/// chosen side.
public func select(where condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    let mask = condition.mapValues { $0 != 0 ? 1 : 0 }
    return mask * a + (1 - mask) * b
}
