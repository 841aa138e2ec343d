import CCPUDispatch

/// DLRM's dot interaction forward, dispatched C (`coppice_dot_interaction_groups`): for n vectors
/// [batch][d], out [batch][n(n−1)/2] holds the dot product of every pair (i, j < i) in the reference's
/// order, and `interleaved` [groups of 8 examples][n][d][8] the vectors as the pair products read them
/// (zero past the batch), which the backward pass reuses.
public enum DotInteractionKernel {
    /// Floats `interleaved` needs.
    public static func interleavedCount(vectors n: Int, batch: Int, dimension d: Int) -> Int { (batch + 7) / 8 * n * d * 8 }

    public static func forward(
        _ vectors: [UnsafePointer<Float>], batch: Int, dimension d: Int, interleaved: UnsafeMutablePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, level: CPU.ISALevel = CPU.isa, pool: ThreadPool = .shared
    ) {
        let n = vectors.count, pairs = n * (n - 1) / 2
        guard batch > 0, d > 0, pairs > 0 else { return }
        let pointers: [UnsafePointer<Float>?] = vectors
        pointers.withUnsafeBufferPointer { pointers in
            pool.parallelRanges((batch + 7) / 8, grain: 2) { groups in
                let sums = UnsafeMutablePointer<Float>.allocate(capacity: pairs * 8)
                defer { sums.deallocate() }
                coppice_dot_interaction_groups(
                    Int32(level.rawValue), pointers.baseAddress, Int32(n), batch, Int32(d), groups.lowerBound, groups.upperBound,
                    interleaved, sums, out)
            }
        }
    }

    /// The backward pass (`coppice_dot_interaction_backward_groups`): from the forward's `interleaved`
    /// vectors and the pairs' gradient g [batch][n(n−1)/2], dx [n][batch][d] with
    /// dx[i] = Σ_{j≠i} g(i, j)·vector_j.
    public static func backward(
        interleaved: UnsafePointer<Float>, vectors n: Int, batch: Int, dimension d: Int, gradient g: UnsafePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>, level: CPU.ISALevel = CPU.isa, pool: ThreadPool = .shared
    ) {
        guard batch > 0, d > 0, n > 1 else { return }
        pool.parallelRanges((batch + 7) / 8, grain: 2) { groups in
            let weights = UnsafeMutablePointer<Float>.allocate(capacity: n * n * 8)
            defer { weights.deallocate() }
            coppice_dot_interaction_backward_groups(
                Int32(level.rawValue), interleaved, Int32(n), batch, Int32(d), g, groups.lowerBound, groups.upperBound, weights, dx)
        }
    }
}
