import CoppiceData
import CoppiceRuns
import Foundation

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
