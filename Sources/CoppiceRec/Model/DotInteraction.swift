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
    guard b > 0, d > 0, n > 1 else { return Tensor.zeros([b, n * (n - 1) / 2]) }
    let (out, packed) = interactionForward(vectors, b: b, d: d)
    return Tensor.differentiable(out, inputs: vectors) { g in
        let grads = interactionBackward(packed, n: n, b: b, d: d, g)
        return (0..<n).map { i in grads.sliced(axis: 0, i..<(i + 1)).reshaped([b, d]) }
    }
}

/// The pairs' dot products [B, n(n−1)/2] and the interleaved copy the backward pass reads.
private func interactionForward(_ vectors: [Tensor], b: Int, d: Int) -> (Tensor, Interleaved) {
    let n = vectors.count, pairs = n * (n - 1) / 2
    // Interleaved [B/8, n, d, 8]: group g, vector i, component c holds examples 8g..<8g+8 (zero padded).
    let packed = Interleaved(groups: (b + 7) / 8, n: n, d: d)
    var out = Tensor.zeros([b, pairs])
    out.withUnsafeMutableBufferPointer { o in
        Tensor.withUnsafeBufferPointers(vectors) { v in
            DotInteractionKernel.forward(v.map { $0.baseAddress! }, batch: b, dimension: d, interleaved: packed.storage, o.baseAddress!)
        }
    }
    return (out, packed)
}

/// d vector_i = Σ_{j≠i} g(i,j)·vector_j, with g(i,j) = g(j,i) the gradient of the pair: [n, B, d].
private func interactionBackward(_ packed: Interleaved, n: Int, b: Int, d: Int, _ g: Tensor) -> Tensor {
    var grads = Tensor.zeros([n, b, d])
    grads.withUnsafeMutableBufferPointer { dx in
        g.withUnsafeBufferPointer { g in
            DotInteractionKernel.backward(interleaved: packed.storage, vectors: n, batch: b, dimension: d, gradient: g.baseAddress!, dx.baseAddress!)
        }
    }
    return grads
}

/// The same interaction of `x` [B, d] and `tables` embedding vectors side by side in `embedded`
/// [B, tables × d] (as the hybrid-parallel exchange delivers them); its gradient comes back in that
/// layout in one pass, where slicing it per table would build a full-size gradient for every table.
public func dotInteraction(_ x: Tensor, embedded: Tensor, tables: Int) -> Tensor {
    let b = x.shape.first ?? 0, d = x.shape.last ?? 0
    checkArgument(x.shape == [b, d] && embedded.shape == [b, tables * d], "dot interaction of \(x.shape) and \(embedded.shape), \(tables) tables")
    let rows = embedded.contiguous().scalars
    var split = (0..<tables).map { _ in [Float](repeating: 0, count: b * d) }
    for t in 0..<tables {
        split[t].withUnsafeMutableBufferPointer { out in
            rows.withUnsafeBufferPointer { e in
                for r in 0..<b { (out.baseAddress! + r * d).update(from: e.baseAddress! + (r * tables + t) * d, count: d) }
            }
        }
    }
    let n = tables + 1, vectors = [x.detached()] + split.map { Tensor($0).reshaped([b, d]) }
    guard b > 0, d > 0 else { return Tensor.zeros([b, n * (n - 1) / 2]) }
    let (out, packed) = interactionForward(vectors, b: b, d: d)
    return Tensor.differentiable(out, inputs: [x, embedded]) { g in
        // The per-vector gradients [n, B, d], the tables' put back side by side.
        let grads = interactionBackward(packed, n: n, b: b, d: d, g).scalars
        var together = [Float](repeating: 0, count: b * tables * d)
        together.withUnsafeMutableBufferPointer { out in
            grads.withUnsafeBufferPointer { gt in
                for t in 0..<tables {
                    for r in 0..<b { (out.baseAddress! + (r * tables + t) * d).update(from: gt.baseAddress! + ((t + 1) * b + r) * d, count: d) }
                }
            }
        }
        return [Tensor(Array(grads[0..<(b * d)])).reshaped([b, d]), Tensor(together).reshaped([b, tables * d])]
    }
}

/// The interleaved copy of the vectors, freed with the last reference (the pullback keeps it).
private final class Interleaved: @unchecked Sendable {
    let storage: UnsafeMutablePointer<Float>
    init(groups: Int, n: Int, d: Int) { storage = .allocate(capacity: groups * n * d * 8) }
    deinit { storage.deallocate() }
}
