import CoppiceKernels
// Shape operations: views sharing storage where the layout allows, and their pullbacks.

extension Tensor {
    /// The same elements in a new shape (one dimension may be -1 and is inferred). A view when the
    /// tensor is contiguous, else a copy.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = Tensor.resolve(newShape, count: count, from: shape)
        if target == shape { return self }
        let base = contiguous()
        var out = Tensor(storage: base.storage, shape: target, strides: Tensor.contiguousStrides(target), offset: base.offset)
        out.node = nil
        let original = shape
        return Tensor.differentiable(out, inputs: [self]) { g in [g.reshaped(original)] }
    }

    /// Throwing variant of `reshaped` for shapes that come from user input.
    public func reshapedChecked(_ newShape: [Int]) throws(TensorError) -> Tensor {
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        let inferred = newShape.filter { $0 == -1 }.count
        guard inferred <= 1, newShape.allSatisfy({ $0 >= -1 }),
            inferred == 1 ? (known > 0 && count % known == 0) : known == count
        else {
            throw .shapeMismatch("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        return reshaped(newShape)
    }

    static func resolve(_ newShape: [Int], count: Int, from shape: [Int]) -> [Int] {
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        let inferred = newShape.filter { $0 == -1 }.count
        checkArgument(inferred <= 1 && newShape.allSatisfy { $0 >= -1 }, "invalid target shape \(newShape)")
        if inferred == 1 {
            checkArgument(known > 0 && count % known == 0, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
            return newShape.map { $0 == -1 ? count / known : $0 }
        }
        checkArgument(known == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return newShape
    }

    /// All axes from `startAxis` on merged into one.
    public func flattened(from startAxis: Int = 0) -> Tensor {
        let a = normalizedAxis(startAxis)
        return reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    /// A view with the axes reordered: axis i of the result is axis `axes[i]` of self.
    public func permuted(_ axes: [Int]) -> Tensor {
        checkArgument(axes.count == rank && Set(axes) == Set(0..<rank), "permutation \(axes) does not fit shape \(shape)")
        var out = Tensor(storage: storage, shape: axes.map { shape[$0] }, strides: axes.map { strides[$0] }, offset: offset)
        out.node = nil
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return Tensor.differentiable(out, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// A view with two axes swapped (by default the last two).
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(normalizedAxis(first), normalizedAxis(second))
        return permuted(axes)
    }

    /// A view of `range` along `axis`.
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxis(axis)
        checkArgument(
            range.lowerBound >= 0 && range.upperBound <= shape[a],
            "slice \(range) out of bounds for axis \(a) of shape \(shape)")
        var newShape = shape
        newShape[a] = range.count
        var out = Tensor(storage: storage, shape: newShape, strides: strides, offset: offset + range.lowerBound * strides[a])
        out.node = nil
        let original = shape
        return Tensor.differentiable(out, inputs: [self]) { g in
            let full = Tensor.zeros(original)
            let window = full.sliced(axis: a, range)
            StridedWrite.write(g, into: window)
            return [full]
        }
    }

    /// A view repeating size-1 axes to `newShape` (no copy: the expanded axes get stride 0).
    public func expanded(to newShape: [Int]) -> Tensor {
        let target = Broadcast.shape(shape, newShape)
        checkArgument(target == newShape, "cannot expand shape \(shape) to \(newShape)")
        var out = Tensor(storage: storage, shape: newShape, strides: Broadcast.strides(of: self, as: newShape), offset: offset)
        out.node = nil
        let original = shape
        return Tensor.differentiable(out, inputs: [self]) { g in [g.summed(toShape: original)] }
    }

    /// Inserts a size-1 axis at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = normalizedAxis(axis, rank: rank + 1)
        var newShape = shape
        newShape.insert(1, at: a)
        return reshaped(newShape)
    }

    /// Removes a size-1 axis.
    public func squeezed(_ axis: Int) -> Tensor {
        let a = normalizedAxis(axis)
        checkArgument(shape[a] == 1, "cannot squeeze axis \(a) of size \(shape[a]) in shape \(shape)")
        var newShape = shape
        newShape.remove(at: a)
        return reshaped(newShape)
    }
}

/// Writes a tensor's values into a (possibly strided) view of another tensor's storage.
enum StridedWrite {
    static func write(_ source: Tensor, into view: Tensor) {
        checkArgument(source.shape == view.shape, "cannot write shape \(source.shape) into a view of shape \(view.shape)")
        let src = source.contiguous()
        defer { withExtendedLifetime(src) {} }
        let values = src.storage.pointer + src.offset
        let base = view.storage.pointer + view.offset
        var index = [Int](repeating: 0, count: view.rank)
        for i in 0..<view.count {
            var position = 0
            for axis in 0..<view.rank { position += index[axis] * view.strides[axis] }
            base[position] = values[i]
            var axis = view.rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < view.shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
