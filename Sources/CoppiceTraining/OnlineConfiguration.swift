import CoppiceData
import CoppiceRec
import Foundation

/// One sparse serving model of an online run (papers.md §3.2): how its masks are chosen and when it
/// is regenerated from the dense model. Between regenerations it trains on every chunk with its mask.
public struct OnlineVariant: Codable, Sendable, Hashable, CustomStringConvertible {
    public var pruning: ServingPruning
    /// Chunks between regenerations (D2S's r); nil: never after the first (prune once, r = ∞).
    public var period: Int?
    /// Adaptive D2S: also regenerate after a chunk on which the serving model's NE exceeded the
    /// dense model's by more than this.
    public var adaptiveThreshold: Double?

    public init(pruning: ServingPruning, period: Int? = nil, adaptiveThreshold: Double? = nil) {
        self.pruning = pruning
        self.period = period
        self.adaptiveThreshold = adaptiveThreshold
    }

    /// "d2s-r2-learned", "prune-once-uniform", "adaptive-0.005-learned".
    public var description: String {
        let schedule = adaptiveThreshold.map { "adaptive-\($0)" + (period.map { "-r\($0)" } ?? "") }
            ?? period.map { "d2s-r\($0)" } ?? "prune-once"
        return "\(schedule)-\(pruning.rawValue)"
    }

    /// Parses a schedule: `once` (or `inf`), `r4` (or `4`), `adaptive:0.005`.
    public static func schedule(_ text: String, pruning: ServingPruning) -> OnlineVariant? {
        let lower = text.lowercased()
        if lower == "once" || lower == "inf" { return OnlineVariant(pruning: pruning) }
        if lower.hasPrefix("adaptive:"), let threshold = Double(lower.dropFirst(9)), threshold >= 0 {
            return OnlineVariant(pruning: pruning, adaptiveThreshold: threshold)
        }
        if let r = Int(lower.hasPrefix("r") ? String(lower.dropFirst()) : lower), r > 0 { return OnlineVariant(pruning: pruning, period: r) }
        return nil
    }
}

/// Everything an online run depends on; a resumed run must have the same.
public struct OnlineConfiguration: Codable, Sendable, Equatable {
    public var model: DLRMConfiguration
    /// Says which stream the run reads (checked on resume).
    public var stream: String
    public var learningRate: Float = 0.1
    public var batchSize = 128
    /// Passes over each chunk (after it was scored).
    public var epochsPerChunk = 1
    /// Chunks the dense model trains on before streaming starts (offline pre-training).
    public var pretrainChunks = 1
    /// Stop after this many chunks in all (nil: the end of the stream).
    public var chunks: Int?
    /// Fraction of the MLP weights that serving models remove.
    public var sparsity = 0.7
    public var variants: [OnlineVariant] = []
    public var learned = LearnedLayerSparsity()
    /// Write a checkpoint after every this many streamed chunks (0: only at the end).
    public var checkpointEvery = 1
    public var seed: UInt64 = 0

    public init(model: DLRMConfiguration, stream: String) {
        self.model = model
        self.stream = stream
    }

    public func validate(chunkCount: Int?) throws(TrainingError) {
        guard learningRate > 0, batchSize > 0, epochsPerChunk > 0, pretrainChunks > 0, checkpointEvery >= 0 else {
            throw .invalidConfiguration("learning rate, batch size, epochs per chunk and pre-training chunks must be positive")
        }
        guard (0..<1).contains(sparsity) else { throw .invalidConfiguration("sparsity must be in [0, 1), got \(sparsity)") }
        guard Set(variants).count == variants.count else { throw .invalidConfiguration("serving variants repeat: \(variants)") }
        let end = [chunks, chunkCount].compactMap { $0 }.min()
        guard let end else { throw .invalidConfiguration("the stream has no end: give a number of chunks") }
        guard end > pretrainChunks else {
            throw .invalidConfiguration("\(end) chunks leave nothing to stream after \(pretrainChunks) pre-training chunks")
        }
    }
}

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
