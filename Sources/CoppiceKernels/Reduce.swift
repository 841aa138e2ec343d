/// Reductions over the middle axis of a contiguous [outer, length, inner] view.
///
/// Any reduction over one run of adjacent axes collapses to this form: `inner == 1` reduces rows
/// (horizontal SIMD sums), `inner > 1` accumulates whole rows of `inner` elements (vertical SIMD).
public enum Reduce {
    public enum Operation: Sendable { case sum, max, min }

    /// z[o, i] = op over r of x[o, r, i]; z has outer × inner elements.
    public static func reduce(
        _ op: Operation, _ x: UnsafePointer<Float>, outer: Int, length: Int, inner: Int,
        _ z: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared
    ) {
        let total = outer * length * inner
        if outer == 1 && inner == 1 && length >= 2 * Elementwise.parallelGrain {
            // One long row: partial results per thread, combined in a fixed order.
            let partials = UnsafeMutablePointer<Float>.allocate(capacity: pool.threadCount)
            defer { partials.deallocate() }
            let pieces = pool.threadCount
            pool.parallelFor(pieces) { piece in
                let range = ThreadPool.range(of: piece, in: pieces, count: length)
                partials[piece] = reduceRow(op, x + range.lowerBound, range.count)
            }
            z[0] = reduceRow(op, partials, pieces)
        } else if outer >= pool.threadCount && total >= 2 * Elementwise.parallelGrain {
            pool.parallelRanges(outer, grain: 1) { range in
                for o in range { reduceSlice(op, x + o * length * inner, length, inner, z + o * inner) }
            }
        } else if inner >= 2 * 1024 && total >= 2 * Elementwise.parallelGrain {
            pool.parallelRanges(inner, grain: 1024) { range in
                for o in 0..<outer {
                    reduceColumns(
                        op, x + o * length * inner + range.lowerBound, length, inner, range.count,
                        z + o * inner + range.lowerBound)
                }
            }
        } else {
            for o in 0..<outer { reduceSlice(op, x + o * length * inner, length, inner, z + o * inner) }
        }
    }

    /// The reference twin: a Double accumulator per output element.
    public static func reference(
        _ op: Operation, _ x: UnsafePointer<Float>, outer: Int, length: Int, inner: Int,
        _ z: UnsafeMutablePointer<Float>
    ) {
        for o in 0..<outer {
            for i in 0..<inner {
                var acc: Double = op == .sum ? 0 : (op == .max ? -.infinity : .infinity)
                for r in 0..<length {
                    let v = Double(x[(o * length + r) * inner + i])
                    switch op {
                    case .sum: acc += v
                    case .max: acc = Swift.max(acc, v)
                    case .min: acc = Swift.min(acc, v)
                    }
                }
                z[o * inner + i] = Float(acc)
            }
        }
    }

    @inline(__always)
    static func reduceSlice(
        _ op: Operation, _ x: UnsafePointer<Float>, _ length: Int, _ inner: Int,
        _ z: UnsafeMutablePointer<Float>
    ) {
        if inner == 1 {
            z[0] = reduceRow(op, x, length)
        } else {
            reduceColumns(op, x, length, inner, inner, z)
        }
    }

    /// One value from `n` contiguous elements.
    @inline(__always)
    public static func reduceRow(_ op: Operation, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let w = FloatVector.scalarCount
        switch op {
        case .sum:
            var a0 = FloatVector(), a1 = FloatVector()
            var i = 0
            while i &+ 2 &* w <= n { a0 += load(x + i); a1 += load(x + (i &+ w)); i &+= 2 &* w }
            var s = (a0 + a1).sum()
            while i < n { s += x[i]; i &+= 1 }
            return s
        case .max, .min:
            if n == 0 { return op == .max ? -.infinity : .infinity }
            var acc = FloatVector(repeating: x[0])
            var i = 0
            while i &+ w <= n {
                let v = load(x + i)
                acc = op == .max ? acc.replacing(with: v, where: v .> acc) : acc.replacing(with: v, where: v .< acc)
                i &+= w
            }
            var s = op == .max ? acc.max() : acc.min()
            while i < n { s = op == .max ? Swift.max(s, x[i]) : Swift.min(s, x[i]); i &+= 1 }
            return s
        }
    }

    /// z[j] = op over r of x[r·rowStride + j] for j in 0..<count.
    @inline(__always)
    static func reduceColumns(
        _ op: Operation, _ x: UnsafePointer<Float>, _ length: Int, _ rowStride: Int, _ count: Int,
        _ z: UnsafeMutablePointer<Float>
    ) {
        if length == 0 {
            z.update(repeating: op == .sum ? 0 : (op == .max ? -.infinity : .infinity), count: count)
            return
        }
        z.update(from: x, count: count)
        for r in 1..<length {
            let row = x + r * rowStride
            switch op {
            case .sum: Elementwise.binaryRun(.add, z, 1, row, 1, z, count)
            case .max: Elementwise.binaryRun(.maximum, z, 1, row, 1, z, count)
            case .min: Elementwise.binaryRun(.minimum, z, 1, row, 1, z, count)
            }
        }
    }
}
