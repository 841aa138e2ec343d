import CoppiceKernels

// Matrix products on the GEMM kernel. Transposed views are handed to BLAS as transposed operands,
// so `matmul(a, b.transposed())` copies nothing.

/// The matrix product of two rank-2 tensors, or of two rank-3 tensors batch by batch
/// (a rank-3 left operand with a rank-2 right operand multiplies every batch by the same matrix).
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    if a.rank == 3 && b.rank == 2 {
        let (batch, m) = (a.shape[0], a.shape[1])
        return matmul(a.reshaped([batch * m, a.shape[2]]), b).reshaped([batch, m, b.shape[1]])
    }
    checkArgument(
        (a.rank == 2 && b.rank == 2) || (a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0]),
        "matmul needs rank-2 or equally batched rank-3 operands, got \(a.shape) and \(b.shape)")
    checkArgument(
        a.shape[a.rank - 1] == b.shape[b.rank - 2],
        "matmul inner dimensions differ: \(a.shape) × \(b.shape)")
    let out = MatrixProduct.compute(a, b, bias: nil)
    let (ga, gb) = (a.requiresGrad, b.requiresGrad)
    return Tensor.differentiable(out, inputs: [a, b]) { g in
        [ga ? matmul(g, b.transposed()) : nil, gb ? matmul(a.transposed(), g) : nil]
    }
}

/// x · weightᵀ + bias for x [batch, in], weight [out, in], bias [out]: a fully connected layer in one
/// GEMM (the bias is written first and accumulated into).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    checkArgument(
        x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
        "linear needs x [batch, in] and weight [out, in] with equal in, got \(x.shape) and \(weight.shape)")
    if let bias {
        checkArgument(bias.shape == [weight.shape[0]], "bias of shape \(bias.shape) for weight of shape \(weight.shape)")
    }
    let wt = weight.transposed()
    let out = MatrixProduct.compute(x, wt, bias: bias)
    let (gx, gw, gb) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Tensor.differentiable(out, inputs: inputs) { g in
        var grads: [Tensor?] = [gx ? matmul(g, weight) : nil, gw ? matmul(g.transposed(), x) : nil]
        if bias != nil { grads.append(gb ? g.sum(alongAxis: 0) : nil) }
        return grads
    }
}

enum MatrixProduct {
    /// How a rank-2 view is passed to BLAS without copying, if it can be.
    static func operand(_ t: Tensor) -> (Tensor, Gemm.Transpose, Int) {
        let (rows, cols) = (t.shape[t.rank - 2], t.shape[t.rank - 1])
        let (rs, cs) = (t.strides[t.rank - 2], t.strides[t.rank - 1])
        if cs == 1 && (rs >= Swift.max(cols, 1) || rows == 1) { return (t, .none, Swift.max(rs, cols, 1)) }
        if rs == 1 && (cs >= Swift.max(rows, 1) || cols == 1) { return (t, .transposed, Swift.max(cs, rows, 1)) }
        let c = t.contiguous()
        return (c, .none, Swift.max(cols, 1))
    }

    static func compute(_ a: Tensor, _ b: Tensor, bias: Tensor?) -> Tensor {
        let batched = a.rank == 3
        let batch = batched ? a.shape[0] : 1
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        var out = Tensor(uninitializedShape: batched ? [batch, m, n] : [m, n])
        out.node = nil
        if out.count == 0 { return out }
        var beta: Float = 0
        if let bias {
            let bc = bias.contiguous()
            defer { withExtendedLifetime(bc) {} }
            for row in 0..<m { (out.storage.pointer + row * n).update(from: bc.storage.pointer + bc.offset, count: n) }
            beta = 1
        }
        let (ta, transA, lda) = operand(a)
        let (tb, transB, ldb) = operand(b)
        let pa = ta.storage.pointer + ta.offset, pb = tb.storage.pointer + tb.offset
        if batched {
            let strideA = ta.strides[0]
            let strideB = tb.strides[0]
            Gemm.batched(
                transA, transB, batch: batch, m: m, n: n, k: k, pa, lda: lda, strideA: strideA,
                pb, ldb: ldb, strideB: strideB, beta: beta, out.storage.pointer, ldc: n, strideC: m * n)
        } else {
            Gemm.compute(
                transA, transB, m: m, n: n, k: k, pa, lda: lda, pb, ldb: ldb, beta: beta,
                out.storage.pointer, ldc: n)
        }
        withExtendedLifetime((ta, tb)) {}
        return out
    }
}
