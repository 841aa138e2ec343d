import CoppiceTensor

/// Weight initialization schemes, named as in PyTorch's `torch.nn.init`.
public enum Initializer: Sendable {
    case zeros, ones
    case normal(standardDeviation: Float)
    case uniform(bound: Float)
    /// He et al. 2015 for ReLU nets: std = gain / sqrt(fanIn), gain = sqrt(2 / (1 + a²)).
    case kaimingNormal(negativeSlope: Float = 0)
    case kaimingUniform(negativeSlope: Float = 0)
    /// Glorot & Bengio 2010: bound = sqrt(6 / (fanIn + fanOut)).
    case xavierUniform
    case xavierNormal

    /// A tensor of `shape` whose fan-in is the product of all axes but the first and fan-out the product
    /// of all axes but the second (PyTorch's convention for [out, in, ...] weights).
    public func make(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        let receptive = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        let fanIn = shape.count > 1 ? shape[1] * receptive : shape.first ?? 1
        let fanOut = (shape.first ?? 1) * receptive
        switch self {
        case .zeros: return .zeros(shape)
        case .ones: return .ones(shape)
        case .normal(let std): return .normal(shape, standardDeviation: std, using: &rng)
        case .uniform(let bound): return .uniform(shape, in: -bound..<bound, using: &rng)
        case .kaimingNormal(let a):
            let std = (2 / (1 + a * a)).squareRoot() / Float(fanIn).squareRoot()
            return .normal(shape, standardDeviation: std, using: &rng)
        case .kaimingUniform(let a):
            let bound = (2 / (1 + a * a)).squareRoot() * (3 / Float(fanIn)).squareRoot()
            return .uniform(shape, in: -bound..<bound, using: &rng)
        case .xavierUniform:
            let bound = (6 / Float(fanIn + fanOut)).squareRoot()
            return .uniform(shape, in: -bound..<bound, using: &rng)
        case .xavierNormal:
            return .normal(shape, standardDeviation: (2 / Float(fanIn + fanOut)).squareRoot(), using: &rng)
        }
    }
}
