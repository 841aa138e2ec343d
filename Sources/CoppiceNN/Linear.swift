import CoppiceKernels
import CoppiceTensor

/// y = x · weightᵀ + bias, weight [outFeatures, inFeatures] (PyTorch's layout and default init:
/// uniform in ±1/sqrt(inFeatures) for weight and bias).
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, using rng: inout RandomGenerator) {
        checkArgument(inFeatures > 0 && outFeatures > 0, "Linear needs positive sizes, got \(inFeatures)→\(outFeatures)")
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(Initializer.uniform(bound: bound).make([outFeatures, inFeatures], using: &rng))
        self.bias = bias ? Parameter(Initializer.uniform(bound: bound).make([outFeatures], using: &rng)) : nil
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func visit(_ v: inout ParameterVisitor) {
        v.parameter("weight", weight)
        if let bias { v.parameter("bias", bias) }
    }

    /// x: [batch, inFeatures] (or [inFeatures]) → [batch, outFeatures].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if x.rank == 1 { return self(x.unsqueezed(0)).squeezed(0) }
        if x.rank > 2 {
            let lead = Array(x.shape.dropLast())
            return self(x.reshaped([-1, x.shape[x.rank - 1]])).reshaped(lead + [outFeatures])
        }
        return linear(x, weight: weight.tensor, bias: bias?.tensor)
    }
}
