import CoppiceKernels
import CoppiceTensor

/// DLRM's dot interaction as one operation: for `vectors` (n tensors [B, d]: the bottom MLP's output
/// and the pooled embeddings) the dot product of every pair (i, j < i), in the reference's order
/// (the strict lower triangle of T·Tᵀ, row by row): [B, n(n−1)/2].
///
/// The same values as stacking, a batched T·Tᵀ and picking the triangle, without the n × n Gram
/// matrix, B tiny GEMM calls each way and the scatter of its gradient; at batch 128 with 27 vectors of
/// 16 that was a sizeable part of a training step.
public func dotInteraction(_ vectors: [Tensor]) -> Tensor {
    let n = vectors.count
    let b = vectors.first?.shape.first ?? 0, d = vectors.first?.shape.last ?? 0
    checkArgument(vectors.allSatisfy { $0.shape == [b, d] }, "dot interaction needs n tensors of one shape [B, d], got \(vectors.map(\.shape))")
    let pairs = n * (n - 1) / 2
    guard b > 0, d > 0, pairs > 0 else { return Tensor.zeros([b, pairs]) }
    // Packed [B, n, d] so that one example's vectors are adjacent.
    var packed = Tensor.zeros([b, n, d])
    packed.withUnsafeMutableBufferPointer { t in
        for (i, vector) in vectors.enumerated() {
            vector.withUnsafeBufferPointer { v in
                for row in 0..<b { (t.baseAddress! + (row * n + i) * d).update(from: v.baseAddress! + row * d, count: d) }
            }
        }
    }
    var out = Tensor.zeros([b, pairs])
    // One example at a time with its vectors transposed to [d, n] (n padded to 8 lanes): the dot
    // products of vector i with vectors 0..<i are then 8-lane multiply-adds of x_i[c] by row c.
    let lanes = (n + 7) / 8 * 8
    packed.withUnsafeBufferPointer { t in
        out.withUnsafeMutableBufferPointer { o in
            let t = t.baseAddress!, o = o.baseAddress!
            ThreadPool.shared.parallelRanges(b, grain: 32) { rows in
                let transposed = UnsafeMutablePointer<Float>.allocate(capacity: d * lanes)
                defer { transposed.deallocate() }
                transposed.initialize(repeating: 0, count: d * lanes)
                for row in rows {
                    let x = t + row * n * d
                    for i in 0..<n {
                        for c in 0..<d { transposed[c * lanes + i] = x[i * d + c] }
                    }
                    var p = row * pairs
                    for i in 1..<n {
                        for block in stride(from: 0, to: i, by: 8) {
                            // Four partial sums so that the multiply-adds do not wait on each other.
                            var acc = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                            var c = 0
                            func column(_ c: Int) -> SIMD8<Float> {
                                UnsafeRawPointer(transposed + c * lanes + block).loadUnaligned(as: SIMD8<Float>.self)
                            }
                            while c + 4 <= d {
                                acc.0.addProduct(x[i * d + c], column(c))
                                acc.1.addProduct(x[i * d + c + 1], column(c + 1))
                                acc.2.addProduct(x[i * d + c + 2], column(c + 2))
                                acc.3.addProduct(x[i * d + c + 3], column(c + 3))
                                c += 4
                            }
                            while c < d { acc.0.addProduct(x[i * d + c], column(c)); c += 1 }
                            let sum = (acc.0 + acc.1) + (acc.2 + acc.3)
                            for lane in 0..<min(8, i - block) { o[p + block + lane] = sum[lane] }
                        }
                        p += i
                    }
                }
            }
        }
    }
    return Tensor.differentiable(out, inputs: vectors) { g in
        // d vector_i = Σ_{j<i} g(i,j)·vector_j + Σ_{k>i} g(k,i)·vector_k, row by row.
        var grads = Tensor.zeros([b, n, d])
        packed.withUnsafeBufferPointer { t in
            g.withUnsafeBufferPointer { g in
                grads.withUnsafeMutableBufferPointer { dx in
                    let t = t.baseAddress!, g = g.baseAddress!, dx = dx.baseAddress!
                    ThreadPool.shared.parallelRanges(b, grain: 32) { rows in
                        for row in rows {
                            let x = t + row * n * d, dxr = dx + row * n * d
                            var p = row * pairs
                            for i in 1..<n {
                                for j in 0..<i {
                                    let w = g[p]
                                    p += 1
                                    axpy(w, x + j * d, dxr + i * d, d)
                                    axpy(w, x + i * d, dxr + j * d, d)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (0..<n).map { i in grads.sliced(axis: 1, i..<(i + 1)).reshaped([b, d]) }
    }
}

/// y += w·x over d floats, 8 at a time.
@inline(__always)
private func axpy(_ w: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ d: Int) {
    var c = 0
    while c + 8 <= d {
        let sum = UnsafeRawPointer(y + c).loadUnaligned(as: SIMD8<Float>.self)
            .addingProduct(w, UnsafeRawPointer(x + c).loadUnaligned(as: SIMD8<Float>.self))
        UnsafeMutableRawPointer(y + c).storeBytes(of: sum, as: SIMD8<Float>.self)
        c += 8
    }
    while c < d { y[c] += w * x[c]; c += 1 }
}
