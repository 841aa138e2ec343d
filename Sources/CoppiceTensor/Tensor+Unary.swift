import CoppiceKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Elementwise functions and their pullbacks.

extension Tensor {
    /// `op` applied to every element, on the SIMD kernel.
    func applying(_ op: Elementwise.Unary) -> Tensor {
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        var out = Tensor(uninitializedShape: shape)
        Elementwise.unary(op, x.storage.pointer + x.offset, out.storage.pointer, count: count)
        out.node = nil
        return out
    }

    public func relu() -> Tensor {
        let out = applying(.relu)
        return Tensor.differentiable(out, inputs: [self]) { g in
            let g = g.contiguous(), y = out
            defer { withExtendedLifetime(g) {} }
            var gx = Tensor(uninitializedShape: g.shape)
            Elementwise.reluBackward(
                y.storage.pointer + y.offset, g.storage.pointer + g.offset, gx.storage.pointer,
                count: g.count)
            gx.node = nil
            return [gx]
        }
    }

    public func sigmoid() -> Tensor {
        let out = applying(.sigmoid)
        return Tensor.differentiable(out, inputs: [self]) { g in [g * out * (1 - out)] }
    }

    public func tanh() -> Tensor {
        let out = applying(.tanh)
        return Tensor.differentiable(out, inputs: [self]) { g in [g * (1 - out * out)] }
    }

    public func exp() -> Tensor {
        let out = applying(.exp)
        return Tensor.differentiable(out, inputs: [self]) { g in [g * out] }
    }

    public func log() -> Tensor {
        let out = applying(.log)
        return Tensor.differentiable(out, inputs: [self]) { g in [g / self] }
    }

    public func squareRoot() -> Tensor {
        let out = applying(.sqrt)
        return Tensor.differentiable(out, inputs: [self]) { g in [g / (2 * out)] }
    }

    public func squared() -> Tensor {
        let out = applying(.square)
        return Tensor.differentiable(out, inputs: [self]) { g in [2 * g * self] }
    }

    public func abs() -> Tensor {
        let out = applying(.abs)
        return Tensor.differentiable(out, inputs: [self]) { g in [g * self.sign()] }
    }

    /// SiLU (swish): x · sigmoid(x).
    public func silu() -> Tensor {
        let out = applying(.silu)
        return Tensor.differentiable(out, inputs: [self]) { g in
            let s = self.applying(.sigmoid)
            return [g * s * (1 + self * (1 - s))]
        }
    }

    /// GELU with the tanh approximation (PyTorch's `approximate="tanh"`).
    public func gelu() -> Tensor {
        let out = applying(.gelu)
        return Tensor.differentiable(out, inputs: [self]) { g in
            let c: Float = 0.7978845608028654
            let x = self
            let inner = (c * (x + 0.044715 * x * x * x)).applying(.tanh)
            let dInner = c * (1 + 3 * 0.044715 * x * x)
            return [g * (0.5 * (1 + inner) + 0.5 * x * (1 - inner * inner) * dInner)]
        }
    }

    /// -1, 0 or 1 per element (no gradient).
    public func sign() -> Tensor {
        mapValues { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    }

    /// Clamps every element into `lower...upper`; the gradient flows where the value was inside.
    public func clamped(to range: ClosedRange<Float>) -> Tensor {
        let out = mapValues { Swift.min(Swift.max($0, range.lowerBound), range.upperBound) }
        return Tensor.differentiable(out, inputs: [self]) { g in
            [g * self.mapValues { range.contains($0) ? 1 : 0 }]
        }
    }

    /// A new tensor with `transform` applied to each value (off the tape; for masks and small helpers).
    public func mapValues(_ transform: (Float) -> Float) -> Tensor {
        let x = contiguous()
        defer { withExtendedLifetime(x) {} }
        var out = Tensor(uninitializedShape: shape)
        let src = x.storage.pointer + x.offset, dst = out.storage.pointer
        for i in 0..<count { dst[i] = transform(src[i]) }
        out.node = nil
        return out
    }

    /// Whether any element is NaN or infinite.
    public var hasNonFinite: Bool {
        withUnsafeBufferPointer { buffer in buffer.contains { !$0.isFinite } }
    }
}
