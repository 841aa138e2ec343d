import CoppiceRuns
import CoppiceTensor
import Foundation

/// Where a DLRM training writes its checkpoint (one safetensors file: the model at its current
/// widths, the AMGP growth state and the loop's counters, written atomically every `everySteps`
/// steps) and whether it continues from one. A resumed run ends with the same test metrics as one
/// never stopped.
public struct DLRMCheckpointing: Sendable {
    public var path: String
    public var everySteps: Int
    public var resume: Bool
    /// What the training data is (dataset, rows, seed): a checkpoint of other data is refused.
    public var data: String

    public init(path: String, everySteps: Int, resume: Bool, data: String) {
        (self.path, self.everySteps, self.resume, self.data) = (path, everySteps, resume, data)
    }
}

extension DLRMTraining {
    static let checkpointFormat = "coppice-dlrm-1"

    /// The training loop's counters besides the model.
    struct LoopState: Codable, Equatable {
        var steps = 0, phase = -1
        var seen = 0, positives = 0
        var multiplyAdds = 0.0, seconds = 0.0
    }

    /// Everything a run's result depends on; a checkpoint written under other settings is refused.
    struct Settings: Codable, Equatable {
        var configuration: DLRMConfiguration
        var batchSize: Int, learningRate: Float, epochs: Int, trainFraction: Double, seed: UInt64
        var phases: [Double], phaseLengths: [Double], regrowth: AlternateGrowthPruning.Regrowth
        var data: String, trainChunks: [Int]
        /// The learning-rate decay's start and length; nil when constant (and in checkpoints from before it).
        var decay: [Int]?
    }

    struct Saved: Codable {
        var settings: Settings
        var loop: LoopState
        var growth: AlternateGrowthPruning.Snapshot
    }

    func settings(_ trainChunks: Range<Int>, data: String) -> Settings {
        Settings(
            configuration: configuration, batchSize: batchSize, learningRate: learningRate, epochs: epochs, trainFraction: trainFraction,
            seed: seed, phases: phases, phaseLengths: phaseLengths, regrowth: regrowth, data: data,
            trainChunks: [trainChunks.lowerBound, trainChunks.upperBound], decay: decayStartStep.map { [$0, decaySteps] })
    }

    func writeCheckpoint(_ loop: LoopState, model: DLRM, growth: AlternateGrowthPruning, trainChunks: Range<Int>) throws {
        guard let checkpointing else { return }
        let (snapshot, growthTensors) = growth.snapshot()
        let saved = Saved(settings: settings(trainChunks, data: checkpointing.data), loop: loop, growth: snapshot)
        var tensors = growthTensors
        for (name, value) in model.stateDict() { tensors["model." + name] = value }
        try CheckpointFile.write(tensors, state: saved, format: Self.checkpointFormat, to: checkpointing.path)
    }

    /// The loop's state from the checkpoint when resuming from one that exists (the model and growth
    /// restored to it); nil to start afresh (as `coppice train --resume`, a run killed before its
    /// first checkpoint starts over).
    func resumed(_ model: DLRM, _ growth: AlternateGrowthPruning, trainChunks: Range<Int>) throws -> LoopState? {
        guard let checkpointing, checkpointing.resume, FileManager.default.fileExists(atPath: checkpointing.path) else { return nil }
        let path = checkpointing.path
        let (tensors, saved) = try CheckpointFile.read(path, format: Self.checkpointFormat, as: Saved.self)
        guard saved.settings == settings(trainChunks, data: checkpointing.data) else {
            throw TrainingError.checkpoint("\(path) was written by a run with other options or data; resume with the same options")
        }
        let loop = saved.loop
        guard loop.steps >= 0, loop.seen >= 0, (0...loop.seen).contains(loop.positives), (-1..<max(phases.count, 1)).contains(loop.phase) else {
            throw TrainingError.checkpoint("\(path) holds an impossible training state (\(loop))")
        }
        do {
            try growth.restore(saved.growth, tensors: tensors)
            let prefix = "model."
            try model.load(
                stateDict: Dictionary(
                    uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
        } catch {
            throw TrainingError.checkpoint("\(path): \(error)")
        }
        return loop
    }
}
