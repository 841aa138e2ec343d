import CoppiceKernels
import CoppiceTensor

/// A lookup table of `count` vectors of `dimension` values (init N(0, 1) as PyTorch).
/// With `sparseGradient`, backward leaves a row-sparse gradient that optimizers apply row by row.
public final class Embedding: Module {
    public let weight: Parameter
    public let sparseGradient: Bool

    public init(count: Int, dimension: Int, sparseGradient: Bool = false, using rng: inout RandomGenerator) {
        checkArgument(count > 0 && dimension > 0, "Embedding needs positive sizes, got \(count)×\(dimension)")
        weight = Parameter(.normal([count, dimension], using: &rng))
        self.sparseGradient = sparseGradient
    }

    public func visit(_ v: inout ParameterVisitor) { v.parameter("weight", weight) }

    /// Rows for `indices` → [indices.count, dimension]; throws on an index outside the table.
    public func callAsFunction(_ indices: [Int]) throws(TensorError) -> Tensor {
        try weight.tensor.embedding(indices, sparseGradient: sparseGradient)
    }
}

/// Pooled lookups per bag (PyTorch's EmbeddingBag): multi-hot features given as flat indices and
/// bag offsets. Init uniform in ±sqrt(1/count), as DLRM's reference does.
public final class EmbeddingBag: Module {
    public let weight: Parameter
    public let mode: EmbeddingBagMode
    public let sparseGradient: Bool

    public init(
        count: Int, dimension: Int, mode: EmbeddingBagMode = .sum, sparseGradient: Bool = true,
        using rng: inout RandomGenerator
    ) {
        checkArgument(count > 0 && dimension > 0, "EmbeddingBag needs positive sizes, got \(count)×\(dimension)")
        let bound = (1 / Float(count)).squareRoot()
        weight = Parameter(.uniform([count, dimension], in: -bound..<bound, using: &rng))
        self.mode = mode
        self.sparseGradient = sparseGradient
    }

    public func visit(_ v: inout ParameterVisitor) { v.parameter("weight", weight) }

    /// [offsets.count, dimension]; throws on an index outside the table or malformed offsets.
    public func callAsFunction(_ indices: [Int], offsets: [Int]) throws(TensorError) -> Tensor {
        try weight.tensor.embeddingBag(indices, offsets: offsets, mode: mode, sparseGradient: sparseGradient)
    }
}
