import CoppiceKernels

// Reductions along axes and their pullbacks.

extension Tensor {
    /// The sum over `axes` (all axes when empty is not what you want: use `sum()`).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let normalized = Array(Set(axes.map { normalizedAxis($0) })).sorted()
        var out = reduced(.sum, normalized)
        let original = shape
        let keptShape = out.shape
        if !keepingDimensions { out = out.reshaped(shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)) }
        return Tensor.differentiable(out, inputs: [self]) { g in [g.reshaped(keptShape).expanded(to: original)] }
    }

    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The sum of all elements, as a rank-0 tensor.
    public func sum() -> Tensor { sum(alongAxes: Array(0..<rank)).reshaped([]) }

    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let n = Set(axes.map { normalizedAxis($0) }).reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Float(n)
    }

    public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

    /// The maximum along `axis`; the gradient goes to the first maximal element.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        extremum(axis, keepingDimensions, largest: true)
    }

    /// The minimum along `axis`; the gradient goes to the first minimal element.
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        extremum(axis, keepingDimensions, largest: false)
    }

    /// Indices of the maxima along `axis` (first on ties), as Int values.
    public func argmax(alongAxis axis: Int) -> [Int] {
        let a = normalizedAxis(axis)
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        let (outer, length, inner) = x.split(at: a)
        let p = x.storage.pointer + x.offset
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = -Float.infinity, index = 0
                for r in 0..<length where p[(o * length + r) * inner + i] > best || r == 0 {
                    best = p[(o * length + r) * inner + i]
                    index = r
                }
                result[o * inner + i] = index
            }
        }
        return result
    }

    private func extremum(_ axis: Int, _ keep: Bool, largest: Bool) -> Tensor {
        let a = normalizedAxis(axis)
        var out = reduced(largest ? .max : .min, [a])
        let keptShape = out.shape
        if !keep { out = out.reshaped(shape.enumerated().filter { $0.offset != a }.map(\.element)) }
        return Tensor.differentiable(out, inputs: [self]) { g in
            // One-hot of the first extremal element along the axis, times the incoming gradient.
            let x = self.contiguous()
            defer { withExtendedLifetime(x) {} }
            let (outer, length, inner) = x.split(at: a)
            var mask = Tensor.zeros(self.shape)
            let values = x.storage.pointer + x.offset
            let extrema = out.contiguous()
            defer { withExtendedLifetime(extrema) {} }
            let ext = extrema.storage.pointer + extrema.offset
            mask.withUnsafeMutableBufferPointer { m in
                for o in 0..<outer {
                    for i in 0..<inner {
                        for r in 0..<length where values[(o * length + r) * inner + i] == ext[o * inner + i] {
                            m[(o * length + r) * inner + i] = 1
                            break
                        }
                    }
                }
            }
            return [mask * g.reshaped(keptShape)]
        }
    }

    /// (product of axes before `axis`, size of `axis`, product of axes after it).
    func split(at axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Reduces sorted, distinct `axes`, keeping them as size 1; adjacent axes go in one kernel pass.
    func reduced(_ op: Reduce.Operation, _ axes: [Int]) -> Tensor {
        var current = contiguous().detached()
        var runs: [(Int, Int)] = []
        for axis in axes {
            if let last = runs.last, last.1 == axis { runs[runs.count - 1].1 = axis + 1 } else { runs.append((axis, axis + 1)) }
        }
        for (start, end) in runs.reversed() {
            let outer = current.shape[..<start].reduce(1, *)
            let length = current.shape[start..<end].reduce(1, *)
            let inner = current.shape[end...].reduce(1, *)
            var newShape = current.shape
            for axis in start..<end { newShape[axis] = 1 }
            var out = Tensor(uninitializedShape: newShape)
            Reduce.reduce(
                op, current.storage.pointer + current.offset, outer: outer, length: length, inner: inner,
                out.storage.pointer)
            out.node = nil
            current = out
        }
        return current
    }
}
