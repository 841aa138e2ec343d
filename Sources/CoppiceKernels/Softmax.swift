import CCPUDispatch

/// Row-wise softmax and log-softmax over the last axis of a contiguous [rows, columns] buffer.
public enum Softmax {
    /// z[r, :] = softmax(x[r, :]) (or its logarithm), computed with the row maximum subtracted.
    public static func forward(
        _ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        logarithm: Bool = false, pool: ThreadPool = .shared
    ) {
        let grain = max(1, Elementwise.parallelGrain / max(1, columns))
        pool.parallelRanges(rows, grain: grain) { range in
            for r in range { row(x + r * columns, z + r * columns, columns, logarithm) }
        }
    }

    /// The gradient through a softmax row given its output y: gx = y ⊙ (g − ⟨g, y⟩);
    /// through a log-softmax row: gx = g − e^y · Σg.
    public static func backward(
        output y: UnsafePointer<Float>, gradient g: UnsafePointer<Float>,
        _ gx: UnsafeMutablePointer<Float>, rows: Int, columns: Int, logarithm: Bool = false,
        pool: ThreadPool = .shared
    ) {
        let grain = max(1, Elementwise.parallelGrain / max(1, columns))
        pool.parallelRanges(rows, grain: grain) { range in
            for r in range {
                let y = y + r * columns, g = g + r * columns, gx = gx + r * columns
                if logarithm {
                    let total = Reduce.reduceRow(.sum, g, columns)
                    for c in 0..<columns { gx[c] = g[c] - libm_exp(y[c]) * total }
                } else {
                    var dot: Float = 0
                    for c in 0..<columns { dot += g[c] * y[c] }
                    for c in 0..<columns { gx[c] = y[c] * (g[c] - dot) }
                }
            }
        }
    }

    /// The reference twin of `forward`, in Double.
    public static func reference(
        _ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        logarithm: Bool = false
    ) {
        for r in 0..<rows {
            let x = x + r * columns, z = z + r * columns
            var m = -Double.infinity
            for c in 0..<columns { m = max(m, Double(x[c])) }
            var s = 0.0
            for c in 0..<columns { s += libm_exp(Double(x[c]) - m) }
            for c in 0..<columns {
                let shifted = Double(x[c]) - m
                z[c] = Float(logarithm ? shifted - libm_log(s) : libm_exp(shifted) / s)
            }
        }
    }

    @inline(__always)
    static func row(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, _ n: Int, _ logarithm: Bool) {
        let m = Reduce.reduceRow(.max, x, n)
        let w = FloatVector.scalarCount
        let mv = FloatVector(repeating: m)
        var acc = FloatVector()
        var i = 0
        var tail: Float = 0
        if CPU.isa >= .avx2 {
            // The exponentials from the C kernel the CPU chose at run time.
            let sum = coppice_exp_sum(x, m, logarithm ? nil : z, n)
            if logarithm { Elementwise.affineRun(x, 1, -(libm_log(sum) + m), z, n) } else { Elementwise.affineRun(z, 1 / sum, 0, z, n) }
        } else if logarithm {
            while i &+ w <= n { acc += SIMDMath.exp(load(x + i) - mv); i &+= w }
            while i < n { tail += libm_exp(x[i] - m); i &+= 1 }
            let logSum = libm_log(acc.sum() + tail) + m
            Elementwise.affineRun(x, 1, -logSum, z, n)
        } else {
            while i &+ w <= n { let e = SIMDMath.exp(load(x + i) - mv); store(e, z + i); acc += e; i &+= w }
            while i < n { let e = libm_exp(x[i] - m); z[i] = e; tail += e; i &+= 1 }
            let inverse = 1 / (acc.sum() + tail)
            Elementwise.affineRun(z, inverse, 0, z, n)
        }
    }
}
