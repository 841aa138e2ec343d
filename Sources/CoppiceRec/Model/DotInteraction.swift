import CoppiceKernels
import CoppiceTensor

/// DLRM's dot interaction as one operation: for `vectors` (n tensors [B, d]: the bottom MLP's output
/// and the pooled embeddings) the dot product of every pair (i, j < i), in the reference's order
/// (the strict lower triangle of T·Tᵀ, row by row): [B, n(n−1)/2].
///
/// The same values as stacking, a batched T·Tᵀ and picking the triangle, without the n × n Gram
/// matrix, B tiny GEMM calls each way and the scatter of its gradient. Eight examples share a SIMD
/// register (lane = example), so every pair's product is plain 8-lane multiply-adds over d with no
/// horizontal sums; at batch 128 with 27 vectors of 16 this op was a third of a small DLRM's step.
/// Both passes are dispatched C (`DotInteractionKernel`).
public func dotInteraction(_ vectors: [Tensor]) -> Tensor {
    let n = vectors.count
    let b = vectors.first?.shape.first ?? 0, d = vectors.first?.shape.last ?? 0
    checkArgument(vectors.allSatisfy { $0.shape == [b, d] }, "dot interaction needs n tensors of one shape [B, d], got \(vectors.map(\.shape))")
    let pairs = n * (n - 1) / 2
    guard b > 0, d > 0, pairs > 0 else { return Tensor.zeros([b, pairs]) }
    let groups = (b + 7) / 8
    // Interleaved [B/8, n, d, 8]: group g, vector i, component c holds examples 8g..<8g+8 (zero padded).
    let packed = Interleaved(groups: groups, n: n, d: d)
    var out = Tensor.zeros([b, pairs])
    out.withUnsafeMutableBufferPointer { o in
        Tensor.withUnsafeBufferPointers(vectors) { v in
            DotInteractionKernel.forward(v.map { $0.baseAddress! }, batch: b, dimension: d, interleaved: packed.storage, o.baseAddress!)
        }
    }
    return Tensor.differentiable(out, inputs: vectors) { g in
        // d vector_i = Σ_{j≠i} g(i,j)·vector_j, with g(i,j) = g(j,i) the gradient of the pair.
        var grads = Tensor.zeros([n, b, d])
        grads.withUnsafeMutableBufferPointer { dx in
            g.withUnsafeBufferPointer { g in
                DotInteractionKernel.backward(
                    interleaved: packed.storage, vectors: n, batch: b, dimension: d, gradient: g.baseAddress!, dx.baseAddress!)
            }
        }
        return (0..<n).map { i in grads.sliced(axis: 0, i..<(i + 1)).reshaped([b, d]) }
    }
}

/// The interleaved copy of the vectors, freed with the last reference (the pullback keeps it).
private final class Interleaved: @unchecked Sendable {
    let storage: UnsafeMutablePointer<Float>
    init(groups: Int, n: Int, d: Int) { storage = .allocate(capacity: groups * n * d * 8) }
    deinit { storage.deallocate() }
}
