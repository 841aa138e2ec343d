/// Gathers a strided view into contiguous row-major memory, innermost axis as a tight loop.
enum StridedCopy {
    static func copy(from t: Tensor, to out: UnsafeMutablePointer<Float>) {
        let total = t.count
        if total == 0 { return }
        if t.rank == 0 { out[0] = t.storage.pointer[t.offset]; return }
        let (shape, strides) = collapse(t.shape, t.strides)
        let inner = shape[shape.count - 1], innerStride = strides[strides.count - 1]
        let src = t.storage.pointer + t.offset
        var index = [Int](repeating: 0, count: shape.count)
        var written = 0
        var base = 0
        while written < total {
            if innerStride == 1 {
                (out + written).update(from: src + base, count: inner)
            } else {
                for i in 0..<inner { out[written + i] = src[base + i * innerStride] }
            }
            written += inner
            var axis = shape.count - 2
            while axis >= 0 {
                index[axis] += 1
                base += strides[axis]
                if index[axis] < shape[axis] { break }
                base -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Merges adjacent axes that are laid out contiguously relative to each other, and drops size-1 axes.
    static func collapse(_ shape: [Int], _ strides: [Int]) -> ([Int], [Int]) {
        var outShape: [Int] = [], outStrides: [Int] = []
        for (size, stride) in zip(shape, strides) where size != 1 {
            if let lastSize = outShape.last, let lastStride = outStrides.last, lastStride == stride * size {
                outShape[outShape.count - 1] = lastSize * size
                outStrides[outStrides.count - 1] = stride
            } else {
                outShape.append(size)
                outStrides.append(stride)
            }
        }
        if outShape.isEmpty { return ([1], [1]) }
        return (outShape, outStrides)
    }
}
