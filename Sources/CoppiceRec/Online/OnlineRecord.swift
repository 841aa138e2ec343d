import Foundation

/// One model's progressive-validation metrics on one chunk (measured before it trained on the chunk).
public struct OnlineRecord: Codable, Sendable, Equatable {
    public var chunk: Int
    public var model: String
    public var examples: Int
    public var ne: Double?
    public var auc: Double?
    public var logLoss: Double
    public var calibration: Double?
    public var lifetimeNE: Double?
    public var lifetimeAUC: Double?
    /// Fraction of zero MLP weights of the model evaluated.
    public var sparsity: Double
    /// Whether the serving model was regenerated from the dense model after this chunk.
    public var regenerated: Bool
    /// Per-layer sparsity of the masks made at that regeneration (MLP layers in order).
    public var layerSparsity: [Double]?

    enum CodingKeys: String, CodingKey {
        case chunk, model, examples, ne, auc, calibration, sparsity, regenerated
        case logLoss = "log_loss", lifetimeNE = "lifetime_ne", lifetimeAUC = "lifetime_auc", layerSparsity = "layer_sparsity"
    }
}
