/// Vector helpers shared by the SIMD kernels: unaligned loads and stores, and a vectorized exp.
public typealias FloatVector = SIMD16<Float>

@inline(__always) @usableFromInline
func load(_ p: UnsafePointer<Float>) -> FloatVector {
    UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self)
}

@inline(__always) @usableFromInline
func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self)
}

public enum SIMDMath {
    /// exp(x) to about 2 ulp over the float range (Cephes expf: range reduction by ln 2 and a
    /// degree-5 polynomial); inputs below -87.3 give 0 and above 88.7 give +inf, NaN stays NaN.
    @inline(__always)
    public static func exp(_ x: FloatVector) -> FloatVector {
        let clamped = x.clamped(lowerBound: FloatVector(repeating: -87.3), upperBound: FloatVector(repeating: 88.7))
        let n = (clamped * 1.44269504088896341 + 0.5).rounded(.down)
        var r = clamped.addingProduct(n, FloatVector(repeating: -0.693359375))
        r = r.addingProduct(n, FloatVector(repeating: 2.12194440e-4))
        var p = FloatVector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let r2 = r * r
        let poly = (p * r2 + r) + 1
        let exponent = SIMD16<Int32>(truncatingIfNeeded: SIMD16<Int32>(n) &+ 127) &<< 23
        var result = poly * unsafeBitCast(exponent, to: FloatVector.self)
        result.replace(with: 0, where: x .< -87.3)
        result.replace(with: .infinity, where: x .> 88.7)
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
