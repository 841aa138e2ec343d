import CoppiceData
import CoppiceRuns
import Foundation

/// Everything that defines a training run; saved as `config.json` beside its results.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public enum Schedule: String, Codable, Sendable, CaseIterable { case constant, cosine, step }

    public var model: VisionModel = .lenet5
    public var dataset: DatasetName = .fashionMNIST
    public var dataDirectory: String?
    public var epochs = 3
    public var batchSize = 64
    public var learningRate: Float = 0.05
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var schedule: Schedule = .cosine
    public var labelSmoothing: Float = 0
    public var cropPadding = 0
    public var horizontalFlip = false
    public var seed: UInt64 = 0
    /// Use only the first N training examples (0: all), for quick runs and tests.
    public var trainLimit = 0
    public var testLimit = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case model, dataset, epochs, seed, momentum, schedule
        case dataDirectory = "data_dir", batchSize = "batch_size", learningRate = "lr", weightDecay = "weight_decay"
        case labelSmoothing = "label_smoothing", cropPadding = "crop_padding", horizontalFlip = "horizontal_flip"
        case trainLimit = "train_limit", testLimit = "test_limit"
    }

    /// Throws naming the first option out of range.
    public func validate() throws(TrainingError) {
        func check(_ ok: Bool, _ message: String) throws(TrainingError) { if !ok { throw .invalidConfiguration(message) } }
        try check(epochs > 0, "epochs must be positive, got \(epochs)")
        try check(batchSize > 0, "batch size must be positive, got \(batchSize)")
        try check(learningRate > 0 && learningRate.isFinite, "learning rate must be positive, got \(learningRate)")
        try check(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got \(momentum)")
        try check(weightDecay >= 0, "weight decay must be non-negative, got \(weightDecay)")
        try check(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1), got \(labelSmoothing)")
        try check(cropPadding >= 0, "crop padding must be non-negative, got \(cropPadding)")
        try check(trainLimit >= 0 && testLimit >= 0, "limits must be non-negative")
    }
}
