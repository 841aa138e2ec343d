import CoppiceKernels

// Softmax and log-softmax over the last axis.

extension Tensor {
    public func softmax() -> Tensor { softmaxOp(logarithm: false) }
    public func logSoftmax() -> Tensor { softmaxOp(logarithm: true) }

    private func softmaxOp(logarithm: Bool) -> Tensor {
        checkArgument(rank >= 1, "softmax needs at least one axis, got shape \(shape)")
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        let columns = shape[rank - 1], rows = count / Swift.max(columns, 1)
        var out = Tensor(uninitializedShape: shape)
        Softmax.forward(x.storage.pointer + x.offset, out.storage.pointer, rows: rows, columns: columns, logarithm: logarithm)
        out.node = nil
        return Tensor.differentiable(out, inputs: [self]) { g in
            let g = g.contiguous()
            defer { withExtendedLifetime(g) {} }
            var gx = Tensor(uninitializedShape: out.shape)
            Softmax.backward(
                output: out.storage.pointer, gradient: g.storage.pointer + g.offset, gx.storage.pointer,
                rows: rows, columns: columns, logarithm: logarithm)
            gx.node = nil
            return [gx]
        }
    }
}
