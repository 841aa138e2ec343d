import CoppiceKernels

// Joining and splitting along an axis.

/// The tensors laid end to end along `axis`; all other dimensions must agree.
public func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
    checkArgument(!tensors.isEmpty, "concatenate needs at least one tensor")
    let first = tensors[0]
    let a = first.normalizedAxis(axis)
    for t in tensors {
        checkArgument(
            t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
            "cannot concatenate shapes \(first.shape) and \(t.shape) along axis \(a)")
    }
    var shape = first.shape
    shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
    var out = Tensor(uninitializedShape: shape)
    out.node = nil
    let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
    let rowLength = shape[a] * inner
    var start = 0
    for t in tensors {
        let c = t.contiguous()
        defer { withExtendedLifetime(c) {} }
        let piece = t.shape[a] * inner
        for o in 0..<outer {
            (out.storage.pointer + o * rowLength + start).update(from: c.storage.pointer + c.offset + o * piece, count: piece)
        }
        start += piece
    }
    let sizes = tensors.map { $0.shape[a] }
    return Tensor.differentiable(out, inputs: tensors) { g in
        var offset = 0
        return sizes.map { size in
            defer { offset += size }
            return g.sliced(axis: a, offset..<(offset + size)).contiguous()
        }
    }
}

/// The tensors stacked along a new axis `axis`; all shapes must be equal.
public func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
    checkArgument(!tensors.isEmpty, "stack needs at least one tensor")
    for t in tensors { checkArgument(t.shape == tensors[0].shape, "cannot stack shapes \(tensors[0].shape) and \(t.shape)") }
    return concatenate(tensors.map { $0.unsqueezed(axis) }, alongAxis: axis)
}

extension Tensor {
    /// Views of consecutive pieces of `sizes` along `axis` (the sizes must add up to the axis).
    public func split(sizes: [Int], alongAxis axis: Int = 0) -> [Tensor] {
        let a = normalizedAxis(axis)
        checkArgument(sizes.reduce(0, +) == shape[a], "split sizes \(sizes) do not add up to axis \(a) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return sliced(axis: a, start..<(start + size))
        }
    }
}
