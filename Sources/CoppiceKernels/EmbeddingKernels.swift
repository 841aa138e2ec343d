import CCPUDispatch

/// Embedding gather and EmbeddingBag pooling, with scatter-add backward.
///
/// Legend: table[rows, d]; indices[n] (validated by the caller: 0 ≤ index < rows); offsets[b] is the
/// first index of bag b, bag b ends where bag b+1 starts (the last bag at n), as in PyTorch.
public enum EmbeddingKernels {
    public enum Mode: Sendable { case sum, mean }

    /// out[i, :] = table[indices[i], :].
    public static func gather(
        _ table: UnsafePointer<Float>, dimension d: Int, indices: UnsafePointer<Int32>, count n: Int,
        _ out: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(n, grain: max(1, Elementwise.parallelGrain / max(1, d))) { range in
            for i in range { (out + i * d).update(from: table + Int(indices[i]) * d, count: d) }
        }
    }

    /// grad[indices[i], :] += g[i, :]; serial, so repeated indices add up deterministically.
    public static func scatterAdd(
        _ g: UnsafePointer<Float>, dimension d: Int, indices: UnsafePointer<Int32>, count n: Int,
        _ grad: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<n {
            let row = grad + Int(indices[i]) * d
            Elementwise.binaryRun(.add, row, 1, g + i * d, 1, row, d)
        }
    }

    /// out[b, :] = sum (or mean) of table[indices[j], :] for j in bag b; empty bags give zeros.
    public static func forward(
        _ table: UnsafePointer<Float>, dimension d: Int, indices: UnsafePointer<Int32>, count n: Int,
        offsets: UnsafePointer<Int32>, bags: Int, mode: Mode,
        _ out: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(bags, grain: max(1, Elementwise.parallelGrain / max(1, d * max(1, n / max(1, bags))))) { range in
            coppice_embedding_bags(
                table, Int32(d), indices, n, offsets, bags, range.lowerBound, range.upperBound, mode == .mean ? 1 : 0, out)
        }
    }

    /// grad[indices[j], :] += g[b, :] (divided by the bag's size for mean) for every j in bag b.
    public static func backward(
        _ g: UnsafePointer<Float>, dimension d: Int, indices: UnsafePointer<Int32>, count n: Int,
        offsets: UnsafePointer<Int32>, bags: Int, mode: Mode, _ grad: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<bags {
            let (start, end) = bounds(b, offsets, bags, n)
            let scale: Float = mode == .mean && end > start ? 1 / Float(end - start) : 1
            for j in start..<end {
                Elementwise.axpyRun(scale, g + b * d, grad + Int(indices[j]) * d, d)
            }
        }
    }

    /// The reference twin of `forward`.
    public static func reference(
        _ table: UnsafePointer<Float>, dimension d: Int, indices: UnsafePointer<Int32>, count n: Int,
        offsets: UnsafePointer<Int32>, bags: Int, mode: Mode, _ out: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<bags {
            let (start, end) = bounds(b, offsets, bags, n)
            for c in 0..<d {
                var sum = 0.0
                for j in start..<end { sum += Double(table[Int(indices[j]) * d + c]) }
                if mode == .mean && end > start { sum /= Double(end - start) }
                out[b * d + c] = Float(sum)
            }
        }
    }

    @inline(__always)
    static func bounds(_ b: Int, _ offsets: UnsafePointer<Int32>, _ bags: Int, _ n: Int) -> (Int, Int) {
        (Int(offsets[b]), b + 1 < bags ? Int(offsets[b + 1]) : n)
    }
}
