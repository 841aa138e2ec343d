import CoppiceKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Elementwise arithmetic with broadcasting, and its pullbacks.

public func + (a: Tensor, b: Tensor) -> Tensor {
    let out = Broadcast.binary(.add, a, b)
    let (sa, sb, ga, gb) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
    return Tensor.differentiable(out, inputs: [a, b]) { g in
        [ga ? g.summed(toShape: sa) : nil, gb ? g.summed(toShape: sb) : nil]
    }
}

public func - (a: Tensor, b: Tensor) -> Tensor {
    let out = Broadcast.binary(.subtract, a, b)
    let (sa, sb, ga, gb) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
    return Tensor.differentiable(out, inputs: [a, b]) { g in
        [ga ? g.summed(toShape: sa) : nil, gb ? (-g).summed(toShape: sb) : nil]
    }
}

public func * (a: Tensor, b: Tensor) -> Tensor {
    let out = Broadcast.binary(.multiply, a, b)
    let (ga, gb) = (a.requiresGrad, b.requiresGrad)
    return Tensor.differentiable(out, inputs: [a, b]) { g in
        [ga ? (g * b).summed(toShape: a.shape) : nil, gb ? (g * a).summed(toShape: b.shape) : nil]
    }
}

public func / (a: Tensor, b: Tensor) -> Tensor {
    let out = Broadcast.binary(.divide, a, b)
    let (ga, gb) = (a.requiresGrad, b.requiresGrad)
    return Tensor.differentiable(out, inputs: [a, b]) { g in
        [
            ga ? (g / b).summed(toShape: a.shape) : nil,
            gb ? (-(g * a) / (b * b)).summed(toShape: b.shape) : nil,
        ]
    }
}

public prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

public func + (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: b) }
public func + (a: Float, b: Tensor) -> Tensor { b.affine(scale: 1, shift: a) }
public func - (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1, shift: -b) }
public func - (a: Float, b: Tensor) -> Tensor { b.affine(scale: -1, shift: a) }
public func * (a: Tensor, b: Float) -> Tensor { a.affine(scale: b, shift: 0) }
public func * (a: Float, b: Tensor) -> Tensor { b.affine(scale: a, shift: 0) }
public func / (a: Tensor, b: Float) -> Tensor { a.affine(scale: 1 / b, shift: 0) }
public func / (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) / b }

/// Elementwise maximum and minimum (the gradient goes to the larger / smaller operand, to `a` on ties).
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { select(.maximum, a, b) }
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { select(.minimum, a, b) }

private func select(_ op: Elementwise.Binary, _ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Broadcast.binary(op, a, b)
    let (ga, gb) = (a.requiresGrad, b.requiresGrad)
    return Tensor.differentiable(out, inputs: [a, b]) { g in
        let takesA = op == .maximum ? a.isGreaterOrEqual(b) : b.isGreaterOrEqual(a)
        return [
            ga ? (g * takesA).summed(toShape: a.shape) : nil,
            gb ? (g * (1 - takesA)).summed(toShape: b.shape) : nil,
        ]
    }
}

extension Tensor {
    /// alpha · self + beta in one pass.
    public func affine(scale alpha: Float, shift beta: Float) -> Tensor {
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        var out = Tensor(uninitializedShape: shape)
        Elementwise.affine(x.storage.pointer + x.offset, alpha: alpha, beta: beta, out.storage.pointer, count: count)
        out.node = nil
        return Tensor.differentiable(out, inputs: [self]) { g in [g * alpha] }
    }

    /// self + other without recording (gradient accumulation).
    func adding(_ other: Tensor) -> Tensor {
        withoutGradient { self + other }
    }

    /// self^exponent elementwise.
    public func raised(to exponent: Float) -> Tensor {
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        var out = Tensor(uninitializedShape: shape)
        let src = x.storage.pointer + x.offset, dst = out.storage.pointer
        for i in 0..<count { dst[i] = pow(src[i], exponent) }
        out.node = nil
        return Tensor.differentiable(out, inputs: [self]) { g in [g * exponent * self.raised(to: exponent - 1)] }
    }
}
