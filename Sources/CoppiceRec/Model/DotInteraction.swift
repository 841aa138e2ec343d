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
            packed.storage.withMemoryRebound(to: Float.self, capacity: groups * n * d * 8) { interleaved in
                DotInteractionKernel.forward(v.map { $0.baseAddress! }, batch: b, dimension: d, interleaved: interleaved, o.baseAddress!)
            }
        }
    }
    return Tensor.differentiable(out, inputs: vectors) { g in
        // d vector_i = Σ_{j≠i} g(i,j)·vector_j, with g(i,j) = g(j,i) the gradient of the pair.
        var grads = Tensor.zeros([n, b, d])
        grads.withUnsafeMutableBufferPointer { dx in
            g.withUnsafeBufferPointer { g in
                let dx = dx.baseAddress!, g = g.baseAddress!
                ThreadPool.shared.parallelRanges(groups, grain: 2) { range in
                    let weights = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: n * n)
                    defer { weights.deallocate() }
                    let accumulators = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: d)
                    defer { accumulators.deallocate() }
                    let pairGradients = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: pairs)
                    defer { pairGradients.deallocate() }
                    for group in range {
                        let x = packed.group(group), lanes = min(8, b - group * 8)
                        // The group's pair gradients with examples in lanes (zero past the batch), then
                        // as a symmetric n × n matrix of 8-lane weights.
                        pairGradients.initialize(repeating: SIMD8(), count: pairs)
                        UnsafeMutableRawPointer(pairGradients).withMemoryRebound(to: Float.self, capacity: pairs * 8) { lanesOf in
                            for lane in 0..<lanes {
                                let row = g + (group * 8 + lane) * pairs
                                for p in 0..<pairs { lanesOf[p * 8 + lane] = row[p] }
                            }
                        }
                        for i in 0..<n { weights[i * n + i] = SIMD8() }  // so that the sums below can run over every j
                        var p = 0
                        for i in 1..<n {
                            for j in 0..<i {
                                weights[i * n + j] = pairGradients[p]
                                weights[j * n + i] = pairGradients[p]
                                p += 1
                            }
                        }
                        for i in 0..<n {
                            var c = 0
                            // Eight components at a time in registers; the tail one at a time.
                            while c + 8 <= d {
                                var a = (
                                    SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                                    SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>()
                                )
                                for j in 0..<n {
                                    let w = weights[i * n + j], xj = x + j * d + c
                                    multiplyAdd8(&a.0, w, xj[0]); multiplyAdd8(&a.1, w, xj[1])
                                    multiplyAdd8(&a.2, w, xj[2]); multiplyAdd8(&a.3, w, xj[3])
                                    multiplyAdd8(&a.4, w, xj[4]); multiplyAdd8(&a.5, w, xj[5])
                                    multiplyAdd8(&a.6, w, xj[6]); multiplyAdd8(&a.7, w, xj[7])
                                }
                                (accumulators[c], accumulators[c + 1], accumulators[c + 2], accumulators[c + 3]) = (a.0, a.1, a.2, a.3)
                                (accumulators[c + 4], accumulators[c + 5], accumulators[c + 6], accumulators[c + 7]) = (a.4, a.5, a.6, a.7)
                                c += 8
                            }
                            while c < d {
                                var a = SIMD8<Float>()
                                for j in 0..<n { multiplyAdd8(&a, weights[i * n + j], x[j * d + c]) }
                                accumulators[c] = a
                                c += 1
                            }
                            for lane in 0..<lanes {
                                let row = dx + (i * b + group * 8 + lane) * d
                                for c in 0..<d { row[c] = accumulators[c][lane] }
                            }
                        }
                    }
                }
            }
        }
        return (0..<n).map { i in grads.sliced(axis: 0, i..<(i + 1)).reshaped([b, d]) }
    }
}

/// The interleaved copy of the vectors, freed with the last reference (the pullback keeps it).
private final class Interleaved: @unchecked Sendable {
    let storage: UnsafeMutablePointer<SIMD8<Float>>
    let n: Int, d: Int
    init(groups: Int, n: Int, d: Int) { (storage, self.n, self.d) = (.allocate(capacity: groups * n * d), n, d) }
    func group(_ g: Int) -> UnsafePointer<SIMD8<Float>> { UnsafePointer(storage + g * n * d) }
    deinit { storage.deallocate() }
}

/// acc += a·b lane by lane, fused where the build has FMA: without it Swift's `addProduct` becomes a
/// library call per lane (8.5% of `coppice bench dlrm` in a plain build on an AMD EPYC Zen 3), so the
/// unfused form is used instead.
@inline(__always)
private func multiplyAdd8(_ acc: inout SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) {
    if isFusedMultiplyAddAvailable { acc.addProduct(a, b) } else { acc += a * b }
}
