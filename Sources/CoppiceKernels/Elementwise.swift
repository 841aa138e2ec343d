import CCPUDispatch

/// Elementwise kernels on contiguous buffers, SIMD and multithreaded.
///
/// Legend: x, y inputs; z output; n element count. Work below `parallelGrain` elements per thread runs
/// on the calling thread (the pool's hand-off costs about as much as 16K elements of work here).
public enum Elementwise {
    /// Elements per thread below which splitting does not pay (measured with `coppice bench engine`).
    public static let parallelGrain = 32_768

    public enum Unary: Sendable, CaseIterable {
        case negate, relu, sigmoid, tanh, exp, log, sqrt, abs, square, silu, gelu
    }

    public enum Binary: Sendable, CaseIterable {
        case add, subtract, multiply, divide, maximum, minimum
    }

    // MARK: Unary

    /// z[i] = op(x[i]) for i in 0..<n.
    public static func unary(
        _ op: Unary, _ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count n: Int,
        pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(n, grain: parallelGrain) { range in
            let x = x + range.lowerBound, z = z + range.lowerBound, n = range.count
            switch op {
            case .negate: map(x, z, n, { -$0 }, { -$0 })
            case .relu: map(x, z, n, { $0.replacing(with: 0, where: $0 .< 0) }, { $0 < 0 ? 0 : $0 })
            case .sigmoid:
                if CPU.isa >= .avx2 {
                    coppice_activation(Int32(COPPICE_SIGMOID), x, z, n)
                } else {
                    map(x, z, n, SIMDMath.sigmoid, { 1 / (1 + libm_exp(-$0)) })
                }
            case .tanh:
                if CPU.isa >= .avx2 { coppice_activation(Int32(COPPICE_TANH), x, z, n) } else { map(x, z, n, SIMDMath.tanh, { libm_tanh($0) }) }
            case .exp:
                // The C kernel is chosen by the CPU at run time; Swift's SIMD exp by the build's flags.
                if CPU.isa >= .avx2 { coppice_exp(x, z, n) } else { map(x, z, n, SIMDMath.exp, { libm_exp($0) }) }
            case .log: mapScalar(x, z, n) { libm_log($0) }
            case .sqrt: map(x, z, n, { $0.squareRoot() }, { $0.squareRoot() })
            case .abs: map(x, z, n, { $0.replacing(with: -$0, where: $0 .< 0) }, { Swift.abs($0) })
            case .square: map(x, z, n, { $0 * $0 }, { $0 * $0 })
            case .silu:
                if CPU.isa >= .avx2 {
                    coppice_activation(Int32(COPPICE_SILU), x, z, n)
                } else {
                    map(x, z, n, { $0 * SIMDMath.sigmoid($0) }, { $0 / (1 + libm_exp(-$0)) })
                }
            case .gelu: map(x, z, n, geluVector, geluScalar)
            }
        }
    }

    /// The reference twin of `unary`: one scalar libm call per element.
    public static func unaryReference(
        _ op: Unary, _ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
        count n: Int
    ) {
        for i in 0..<n {
            let v = Double(x[i])
            let r: Double
            switch op {
            case .negate: r = -v
            case .relu: r = max(v, 0)
            case .sigmoid: r = 1 / (1 + libm_exp(-v))
            case .tanh: r = libm_tanh(v)
            case .exp: r = libm_exp(v)
            case .log: r = libm_log(v)
            case .sqrt: r = v.squareRoot()
            case .abs: r = Swift.abs(v)
            case .square: r = v * v
            case .silu: r = v / (1 + libm_exp(-v))
            case .gelu: r = 0.5 * v * (1 + libm_tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
            }
            z[i] = Float(r)
        }
    }

    // GELU with the tanh approximation (as PyTorch's approximate="tanh" and GPT-2).
    @inline(__always) static func geluVector(_ v: FloatVector) -> FloatVector {
        let inner = 0.7978845608028654 * multiplyAdd(v, 0.044715 * v * v, v)
        return 0.5 * v * (1 + SIMDMath.tanh(inner))
    }

    @inline(__always) static func geluScalar(_ v: Float) -> Float {
        0.5 * v * (1 + libm_tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
    }

    @inline(__always)
    static func map(
        _ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, _ n: Int,
        _ vector: (FloatVector) -> FloatVector, _ scalar: (Float) -> Float
    ) {
        var i = 0
        while i &+ FloatVector.scalarCount <= n {
            store(vector(load(x + i)), z + i)
            i &+= FloatVector.scalarCount
        }
        while i < n { z[i] = scalar(x[i]); i &+= 1 }
    }

    @inline(__always)
    static func mapScalar(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, _ n: Int, _ scalar: (Float) -> Float) {
        for i in 0..<n { z[i] = scalar(x[i]) }
    }

    // MARK: Binary

    /// z[i] = x[i] op y[i]; a stride of 0 broadcasts that operand's first element.
    public static func binary(
        _ op: Binary, _ x: UnsafePointer<Float>, xStride: Int = 1,
        _ y: UnsafePointer<Float>, yStride: Int = 1,
        _ z: UnsafeMutablePointer<Float>, count n: Int, pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(n, grain: parallelGrain) { range in
            binaryRun(
                op, x + range.lowerBound * xStride, xStride, y + range.lowerBound * yStride, yStride,
                z + range.lowerBound, range.count)
        }
    }

    /// Single-threaded body of `binary` for callers that already split the work (broadcast loops).
    @inline(__always)
    public static func binaryRun(
        _ op: Binary, _ x: UnsafePointer<Float>, _ xStride: Int,
        _ y: UnsafePointer<Float>, _ yStride: Int, _ z: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        switch op {
        case .add: zip(x, xStride, y, yStride, z, n, { $0 + $1 }, { $0 + $1 })
        case .subtract: zip(x, xStride, y, yStride, z, n, { $0 - $1 }, { $0 - $1 })
        case .multiply: zip(x, xStride, y, yStride, z, n, { $0 * $1 }, { $0 * $1 })
        case .divide: zip(x, xStride, y, yStride, z, n, { $0 / $1 }, { $0 / $1 })
        case .maximum: zip(x, xStride, y, yStride, z, n, { $0.replacing(with: $1, where: $1 .> $0) }, { $1 > $0 ? $1 : $0 })
        case .minimum: zip(x, xStride, y, yStride, z, n, { $0.replacing(with: $1, where: $1 .< $0) }, { $1 < $0 ? $1 : $0 })
        }
    }

    /// The reference twin of `binary`.
    public static func binaryReference(
        _ op: Binary, _ x: UnsafePointer<Float>, xStride: Int = 1,
        _ y: UnsafePointer<Float>, yStride: Int = 1,
        _ z: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n {
            let a = x[i * xStride], b = y[i * yStride]
            switch op {
            case .add: z[i] = a + b
            case .subtract: z[i] = a - b
            case .multiply: z[i] = a * b
            case .divide: z[i] = a / b
            case .maximum: z[i] = Swift.max(a, b)
            case .minimum: z[i] = Swift.min(a, b)
            }
        }
    }

    @inline(__always)
    static func zip(
        _ x: UnsafePointer<Float>, _ xs: Int, _ y: UnsafePointer<Float>, _ ys: Int,
        _ z: UnsafeMutablePointer<Float>, _ n: Int,
        _ vector: (FloatVector, FloatVector) -> FloatVector, _ scalar: (Float, Float) -> Float
    ) {
        var i = 0
        let w = FloatVector.scalarCount
        if xs == 1 && ys == 1 {
            while i &+ w <= n { store(vector(load(x + i), load(y + i)), z + i); i &+= w }
        } else if xs == 1 && ys == 0 {
            let b = FloatVector(repeating: y[0])
            while i &+ w <= n { store(vector(load(x + i), b), z + i); i &+= w }
        } else if xs == 0 && ys == 1 {
            let a = FloatVector(repeating: x[0])
            while i &+ w <= n { store(vector(a, load(y + i)), z + i); i &+= w }
        }
        while i < n { z[i] = scalar(x[i &* xs], y[i &* ys]); i &+= 1 }
    }

    // MARK: Fused updates used by backward passes and optimizers

    /// y[i] += alpha · x[i].
    public static func axpy(
        _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int,
        pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(n, grain: parallelGrain) { range in
            axpyRun(alpha, x + range.lowerBound, y + range.lowerBound, range.count)
        }
    }

    /// Single-threaded body of `axpy`, for callers inside a parallel loop (no closure, no hand-off).
    @inline(__always)
    public static func axpyRun(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let a = FloatVector(repeating: alpha)
        var i = 0
        while i &+ FloatVector.scalarCount <= n {
            store(multiplyAdd(load(y + i), a, load(x + i)), y + i)
            i &+= FloatVector.scalarCount
        }
        while i < n { y[i] += alpha * x[i]; i &+= 1 }
    }

    /// z[i] = alpha · x[i] + beta.
    public static func affine(
        _ x: UnsafePointer<Float>, alpha: Float, beta: Float, _ z: UnsafeMutablePointer<Float>,
        count n: Int, pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(n, grain: parallelGrain) { range in
            affineRun(x + range.lowerBound, alpha, beta, z + range.lowerBound, range.count)
        }
    }

    /// Single-threaded body of `affine`, for callers inside a parallel loop.
    @inline(__always)
    public static func affineRun(_ x: UnsafePointer<Float>, _ alpha: Float, _ beta: Float, _ z: UnsafeMutablePointer<Float>, _ n: Int) {
        let a = FloatVector(repeating: alpha), b = FloatVector(repeating: beta)
        map(x, z, n, { multiplyAdd(b, a, $0) }, { alpha * $0 + beta })
    }

    /// Memory copy, split across threads for large buffers.
    public static func copy(
        _ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, count n: Int,
        pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(n, grain: parallelGrain * 4) { range in
            (z + range.lowerBound).update(from: x + range.lowerBound, count: range.count)
        }
    }

    /// z[i] = x[i] > 0 ? g[i] : 0, the ReLU pullback.
    public static func reluBackward(
        _ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
        count n: Int, pool: ThreadPool = .shared
    ) {
        pool.parallelRanges(n, grain: parallelGrain) { range in
            let lo = range.lowerBound
            zip(x + lo, 1, g + lo, 1, z + lo, range.count, { $1.replacing(with: 0, where: $0 .<= 0) }, { $0 > 0 ? $1 : 0 })
        }
    }
}
