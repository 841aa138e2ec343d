import CoppiceNN
import CoppiceTensor

/// A batch of CTR examples: dense features [B, bottomMLP[0]] and, per table, multi-hot indices with
/// their bag offsets (PyTorch's EmbeddingBag convention; one bag per example).
public struct DLRMBatch {
    public var dense: Tensor
    public var indices: [[Int]]
    public var offsets: [[Int]]

    public init(dense: Tensor, indices: [[Int]], offsets: [[Int]]) {
        self.dense = dense
        self.indices = indices
        self.offsets = offsets
    }
}

/// Bottom MLP → embedding bags → dot interaction (strict lower triangle of the Gram matrix of the 26+1
/// vectors, concatenated with the bottom output) → top MLP, one logit per example.
public final class DLRM: Module {
    public let configuration: DLRMConfiguration
    public let bottom: Sequential
    public let embeddings: [EmbeddingBag]
    public let top: Sequential

    /// Initialized as the reference does: Linear W ~ N(0, √(2/(in+out))), b ~ N(0, √(1/out)); tables
    /// U(±√(1/rows)).
    public init(_ configuration: DLRMConfiguration, using rng: inout RandomGenerator) throws(DLRMError) {
        try configuration.validate()
        self.configuration = configuration
        func mlp(_ widths: [Int], sigmoidLast: Bool) -> Sequential {
            var layers: [Layer] = []
            for (index, (n, m)) in zip(widths, widths.dropFirst()).enumerated() {
                let layer = Linear(inFeatures: n, outFeatures: m, using: &rng)
                layer.weight.value = .normal([m, n], standardDeviation: (2 / Float(m + n)).squareRoot(), using: &rng)
                layer.bias?.value = .normal([m], standardDeviation: (1 / Float(m)).squareRoot(), using: &rng)
                layers.append(layer)
                if !(sigmoidLast && index == widths.count - 2) { layers.append(ReLU()) }
            }
            return Sequential(layers)
        }
        bottom = mlp(configuration.bottomMLP, sigmoidLast: false)
        embeddings = configuration.tableSizes.map {
            EmbeddingBag(count: $0, dimension: configuration.embeddingDimension, mode: configuration.pooling, using: &rng)
        }
        top = mlp([configuration.interactionWidth] + configuration.topMLP, sigmoidLast: true)
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.module("bot_l", bottom)
        for (index, table) in embeddings.enumerated() { v.module("emb_l.\(index)", table) }
        v.module("top_l", top)
    }

    /// Logits [B, 1] (apply a sigmoid for click probabilities).
    public func callAsFunction(_ batch: DLRMBatch) throws(DLRMError) -> Tensor {
        let b = batch.dense.shape.first ?? 0
        guard batch.dense.shape == [b, configuration.bottomMLP[0]] else {
            throw .invalidBatch("dense features must be [B, \(configuration.bottomMLP[0])], got \(batch.dense.shape)")
        }
        guard batch.indices.count == embeddings.count, batch.offsets.count == embeddings.count else {
            throw .invalidBatch(
                "\(embeddings.count) tables need as many index and offset lists, got \(batch.indices.count) and \(batch.offsets.count)")
        }
        let x = bottom(batch.dense)
        var vectors = [x]
        for (table, (indices, offsets)) in zip(embeddings, zip(batch.indices, batch.offsets)) {
            guard offsets.count == b else { throw .invalidBatch("every table needs \(b) bag offsets, got \(offsets.count)") }
            do { vectors.append(try table(indices, offsets: offsets)) } catch { throw .invalidBatch("\(error)") }
        }
        return top(concatenate([x, dotInteraction(vectors)], alongAxis: 1))
    }
}
