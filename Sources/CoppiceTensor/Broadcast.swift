import CoppiceKernels

/// Broadcasting of shapes (NumPy rules) and elementwise binary ops over broadcast views.
enum Broadcast {
    /// The shape both operands broadcast to; traps naming both shapes when they are incompatible.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            checkArgument(da == db || da == 1 || db == 1, "shapes \(a) and \(b) cannot be broadcast together")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides that read `t` as if it had `shape` (0 along broadcast axes).
    static func strides(of t: Tensor, as shape: [Int]) -> [Int] {
        let lead = shape.count - t.rank
        return (0..<shape.count).map { i in
            i < lead || t.shape[i - lead] == 1 && shape[i] != 1 ? 0 : t.strides[i - lead]
        }
    }

    /// out = a op b with broadcasting; rows of the collapsed innermost axis go to the SIMD kernel.
    static func binary(_ op: Elementwise.Binary, _ a: Tensor, _ b: Tensor) -> Tensor {
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            var out = Tensor(uninitializedShape: a.shape)
            Elementwise.binary(
                op, a.storage.pointer + a.offset, b.storage.pointer + b.offset, out.storage.pointer,
                count: a.count)
            out.node = nil
            return out
        }
        let shape = shape(a.shape, b.shape)
        let out = Tensor(uninitializedShape: shape)
        let total = out.count
        if total == 0 { return out }
        var dims = shape, sa = strides(of: a, as: shape), sb = strides(of: b, as: shape)
        collapse(&dims, &sa, &sb)
        let inner = dims.last ?? 1, ia = sa.last ?? 0, ib = sb.last ?? 0
        let rows = total / inner
        let pa = a.storage.pointer + a.offset, pb = b.storage.pointer + b.offset, po = out.storage.pointer
        let grain = max(1, Elementwise.parallelGrain / inner)
        ThreadPool.shared.parallelRanges(rows, grain: grain) { range in
            for row in range {
                var rest = row, offA = 0, offB = 0
                for axis in stride(from: dims.count - 2, through: 0, by: -1) {
                    let i = rest % dims[axis]
                    rest /= dims[axis]
                    offA += i * sa[axis]
                    offB += i * sb[axis]
                }
                Elementwise.binaryRun(op, pa + offA, ia, pb + offB, ib, po + row * inner, inner)
            }
        }
        return out
    }

    /// Merges adjacent axes along which both operands (and the contiguous output) step uniformly.
    static func collapse(_ dims: inout [Int], _ sa: inout [Int], _ sb: inout [Int]) {
        var d: [Int] = [], a: [Int] = [], b: [Int] = []
        for i in 0..<dims.count where dims[i] != 1 {
            if let last = d.last, a.last! == sa[i] * dims[i], b.last! == sb[i] * dims[i] {
                d[d.count - 1] = last * dims[i]
                a[a.count - 1] = sa[i]
                b[b.count - 1] = sb[i]
            } else {
                d.append(dims[i]); a.append(sa[i]); b.append(sb[i])
            }
        }
        if d.isEmpty { d = [1]; a = [0]; b = [0] }
        dims = d; sa = a; sb = b
    }
}

extension Tensor {
    /// The sum of this gradient over the axes that broadcasting expanded, giving `shape`.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        checkArgument(lead >= 0, "cannot sum shape \(shape) down to \(target)")
        var axes: [Int] = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[i + lead] != 1 { axes.append(i + lead) }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(target)
    }
}
