import CoppiceTensor

/// Compares the tape's gradients with central finite differences.
///
/// The scalar checked is L = Σ f(x) ⊙ R for a fixed random R (so every output element matters), and
/// L and the differences are accumulated in Double. Ops run in Float32, so `epsilon` is large
/// (1e-2 by default) and tolerances are per op.
public enum GradientCheck {
    public struct Mismatch: CustomStringConvertible {
        public var input: Int, index: Int, analytic: Double, numeric: Double
        public var description: String { "input \(input)[\(index)]: analytic \(analytic), numeric \(numeric)" }
    }

    /// Mismatches between analytic and numeric gradients of `f` at `inputs` (empty when they agree).
    /// At most `samples` elements per input are checked, spread evenly.
    public static func mismatches(
        _ inputs: [Tensor], epsilon: Float = 1e-2, relativeTolerance: Double = 2e-2,
        absoluteTolerance: Double = 2e-3, samples: Int = 40,
        _ f: ([Tensor]) -> Tensor
    ) -> [Mismatch] {
        let leaves = inputs.map { $0.detached().requiringGrad() }
        let output = f(leaves)
        var rng = RandomGenerator(seed: 99)
        let projection = Tensor.uniform(output.shape, in: -1..<1, using: &rng)
        output.backward(seed: projection)
        let weights = projection.scalars
        func loss(_ values: [Tensor]) -> Double {
            let out = withoutGradient { f(values) }.scalars
            var sum = 0.0
            for (o, w) in zip(out, weights) { sum += Double(o) * Double(w) }
            return sum
        }
        var result: [Mismatch] = []
        for (which, input) in inputs.enumerated() {
            let analytic = leaves[which].grad?.scalars ?? [Float](repeating: 0, count: input.count)
            let stride = max(1, input.count / samples)
            for index in Swift.stride(from: 0, to: input.count, by: stride) {
                var values = inputs.map { $0.detached() }
                var plus = input.scalars, minus = input.scalars
                plus[index] += epsilon
                minus[index] -= epsilon
                values[which] = Tensor(plus).reshaped(input.shape)
                let lp = loss(values)
                values[which] = Tensor(minus).reshaped(input.shape)
                let lm = loss(values)
                let numeric = (lp - lm) / (2 * Double(epsilon))
                let a = Double(analytic[index])
                if Swift.abs(a - numeric) > absoluteTolerance + relativeTolerance * Swift.abs(numeric) {
                    result.append(Mismatch(input: which, index: index, analytic: a, numeric: numeric))
                }
            }
        }
        return result
    }
}

/// Elementwise closeness with fixed tolerances: |a − b| ≤ atol + rtol·|b| for every element.
public func allClose(_ a: [Float], _ b: [Float], relativeTolerance: Float = 1e-5, absoluteTolerance: Float = 1e-5) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) {
        if x.isNaN || y.isNaN { return false }
        if Swift.abs(x - y) > absoluteTolerance + relativeTolerance * Swift.abs(y) { return false }
    }
    return true
}

/// The largest |a − b| / (atol + rtol·|b|) over the elements: ≤ 1 means close (for failure messages).
public func worstClosenessRatio(_ a: [Float], _ b: [Float], relativeTolerance: Float = 1e-5, absoluteTolerance: Float = 1e-5) -> Float {
    zip(a, b).map { Swift.abs($0 - $1) / (absoluteTolerance + relativeTolerance * Swift.abs($1)) }.max() ?? 0
}

/// Deterministic test values in [-1, 1).
public func testValues(_ count: Int, seed: UInt64) -> [Float] {
    var rng = RandomGenerator(seed: seed)
    return (0..<count).map { _ in rng.nextUniform() * 2 - 1 }
}

/// A deterministic tensor of test values in [-1, 1).
public func testTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    Tensor(testValues(shape.reduce(1, *), seed: seed)).reshaped(shape)
}
