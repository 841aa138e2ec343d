#if !canImport(Accelerate)
import CCBLAS
#endif

/// Vector helpers shared by the SIMD kernels: unaligned loads and stores, fused multiply-add, and a
/// vectorized exp.
public typealias FloatVector = SIMD16<Float>

/// Whether this build may emit fused multiply-add instructions (release builds with
/// `-Xswiftc -target-cpu -Xswiftc haswell` or newer; always on arm64).
@inline(__always)
public var isFusedMultiplyAddAvailable: Bool {
    #if canImport(Accelerate)
    return true
    #else
    return coppice_compiled_with_fma() != 0
    #endif
}

/// Whether this build targets 512-bit vectors (`-target-cpu` of an AVX-512 machine, e.g. `native` here).
@inline(__always)
public var isWideVectorTarget: Bool {
    #if canImport(Accelerate)
    return false
    #else
    return coppice_compiled_with_avx512() != 0
    #endif
}

/// acc + a·b, fused where the build allows it. Without FMA in the target, Swift's `addingProduct`
/// becomes a software fma call per lane (measured ~100× slower), so the unfused form is used instead.
@inline(__always) @usableFromInline
func multiplyAdd(_ acc: FloatVector, _ a: FloatVector, _ b: FloatVector) -> FloatVector {
    isFusedMultiplyAddAvailable ? acc.addingProduct(a, b) : acc + a * b
}

@inline(__always) @usableFromInline
func load(_ p: UnsafePointer<Float>) -> FloatVector {
    UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self)
}

@inline(__always) @usableFromInline
func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self)
}

public enum SIMDMath {
    /// exp(x) to about 2 ulp (Cephes expf: x = n·ln 2 + r with |r| ≤ ln2/2, a degree-5 polynomial
    /// for e^r, and 2^n built in the exponent bits). Inputs above 88.376 give +inf (the last 0.35 of
    /// the float range saturates early), below -87.336 give 0; NaN stays NaN.
    /// Rounding uses the 1.5·2²³ shifter instead of `rounded()` and integer conversion, which the
    /// compiler does not vectorize.
    @inline(__always)
    public static func exp(_ x: FloatVector) -> FloatVector {
        let high = FloatVector(repeating: 88.3762626647949), low = FloatVector(repeating: -87.3365478515625)
        var clamped = x.replacing(with: high, where: x .> high)
        clamped.replace(with: low, where: clamped .< low)
        let shifter = FloatVector(repeating: 12582912)
        let t = multiplyAdd(shifter, clamped, FloatVector(repeating: 1.44269504088896341))
        let n = t - shifter
        var r = multiplyAdd(clamped, n, FloatVector(repeating: -0.693359375))
        r = multiplyAdd(r, n, FloatVector(repeating: 2.12194440e-4))
        var p = multiplyAdd(FloatVector(repeating: 1.3981999507e-3), FloatVector(repeating: 1.9875691500e-4), r)
        p = multiplyAdd(FloatVector(repeating: 8.3334519073e-3), p, r)
        p = multiplyAdd(FloatVector(repeating: 4.1665795894e-2), p, r)
        p = multiplyAdd(FloatVector(repeating: 1.6666665459e-1), p, r)
        p = multiplyAdd(FloatVector(repeating: 5.0000001201e-1), p, r)
        let poly = multiplyAdd((r + 1), p, r * r)
        let bits = unsafeBitCast(t, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127
        var result = poly * unsafeBitCast(bits &<< 23, to: FloatVector.self)
        result.replace(with: 0, where: x .< low)
        result.replace(with: .infinity, where: x .> high)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// The logistic function 1 / (1 + e^(-x)).
    @inline(__always)
    public static func sigmoid(_ x: FloatVector) -> FloatVector {
        1 / (1 + exp(-x))
    }

    /// tanh(x) = 2·sigmoid(2x) − 1.
    @inline(__always)
    public static func tanh(_ x: FloatVector) -> FloatVector {
        2 / (1 + exp(-2 * x)) - 1
    }
}
