import CoppiceNN
import CoppiceTensor

/// The architecture of a DLRM (Naumov et al. 2019) in the reference implementation's notation
/// (`facebookresearch/dlrm`, `dlrm_s_pytorch.py`; papers.md §2.2).
public struct DLRMConfiguration: Codable, Sendable, Equatable {
    /// `--arch-mlp-bot`, e.g. [13, 512, 256, 64, 16]: dense features in, the embedding size out.
    public var bottomMLP: [Int]
    /// `--arch-mlp-top`, e.g. [512, 256, 1]: the layers after the interaction (whose width is set
    /// automatically, as the reference does).
    public var topMLP: [Int]
    /// `--arch-sparse-feature-size`.
    public var embeddingDimension: Int
    /// Rows of each embedding table (one table per categorical feature).
    public var tableSizes: [Int]
    public var pooling: EmbeddingBagMode = .sum

    public init(bottomMLP: [Int], topMLP: [Int], embeddingDimension: Int, tableSizes: [Int], pooling: EmbeddingBagMode = .sum) {
        self.bottomMLP = bottomMLP
        self.topMLP = topMLP
        self.embeddingDimension = embeddingDimension
        self.tableSizes = tableSizes
        self.pooling = pooling
    }

    enum CodingKeys: String, CodingKey {
        case bottomMLP = "arch_mlp_bot", topMLP = "arch_mlp_top", embeddingDimension = "arch_sparse_feature_size"
        case tableSizes = "table_sizes", pooling
    }

    /// Parses the reference's dash-separated layer lists ("13-512-256-64-16").
    public static func layers(_ text: String) -> [Int]? {
        let values = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        return values.isEmpty || values.contains(nil) || values.contains { $0! <= 0 } ? nil : values.map { $0! }
    }

    /// Pairwise dot products of the embeddings and the bottom output (strict lower triangle) plus the
    /// bottom output itself: the top MLP's input width.
    public var interactionWidth: Int {
        let vectors = tableSizes.count + 1
        return vectors * (vectors - 1) / 2 + embeddingDimension
    }

    /// Multiply-adds of one example's forward pass through the MLPs and the interaction (the
    /// embedding lookups are additions, not counted).
    public var forwardMultiplyAdds: Int {
        let top = [interactionWidth] + topMLP
        let mlp = zip(bottomMLP, bottomMLP.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 } + zip(top, top.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        let n = tableSizes.count + 1
        return mlp + n * n * embeddingDimension
    }

    /// The same model with every hidden width of both MLPs scaled by `factor` (rounded, at least 1);
    /// the input, the embedding width and the output stay.
    public func scalingHiddenWidths(by factor: Double) -> DLRMConfiguration {
        let scale = { (width: Int) in max(1, Int((Double(width) * factor).rounded())) }
        var copy = self
        copy.bottomMLP = bottomMLP.enumerated().map { i, w in i == 0 || i == bottomMLP.count - 1 ? w : scale(w) }
        copy.topMLP = topMLP.enumerated().map { i, w in i == topMLP.count - 1 ? w : scale(w) }
        return copy
    }

    public func validate() throws(DLRMError) {
        guard bottomMLP.count >= 2, bottomMLP.allSatisfy({ $0 > 0 }) else {
            throw .invalidConfiguration("arch-mlp-bot needs at least input and output widths, got \(bottomMLP)")
        }
        guard bottomMLP.last == embeddingDimension else {
            throw .invalidConfiguration("arch-mlp-bot must end at arch-sparse-feature-size \(embeddingDimension), got \(bottomMLP)")
        }
        guard !topMLP.isEmpty, topMLP.allSatisfy({ $0 > 0 }), topMLP.last == 1 else {
            throw .invalidConfiguration("arch-mlp-top must be positive widths ending in 1, got \(topMLP)")
        }
        guard !tableSizes.isEmpty, tableSizes.allSatisfy({ $0 > 0 }) else {
            throw .invalidConfiguration("table sizes must be positive, got \(tableSizes)")
        }
    }
}
