import CoppiceData
import CoppiceNN
import CoppiceRuns
import CoppiceTensor
import Foundation

/// What an online run carries from chunk to chunk besides the models.
struct OnlineState: Codable, Equatable {
    var configuration: OnlineConfiguration
    var nextChunk = 0
    var seenExamples = 0, seenPositives = 0
    /// Lifetime metrics: the dense model first, then each serving variant (no window: a chunk is the
    /// window, and its metrics are exact in the records).
    var metrics: [StreamingBinaryMetrics]
    /// Sizes of metrics.csv and metrics.jsonl up to the last chunk of this state.
    var csvBytes = 0, jsonlBytes = 0

    init(configuration: OnlineConfiguration, variants: Int) {
        self.configuration = configuration
        metrics = Array(repeating: StreamingBinaryMetrics.lifetimeOnly(), count: variants + 1)
    }

    /// CTR of everything trained on so far (NE's reference).
    var trainingCTR: Double? { seenExamples > 0 ? Double(seenPositives) / Double(seenExamples) : nil }

    mutating func see(_ examples: [CTRExample]) {
        seenExamples += examples.count
        seenPositives += examples.filter { $0.label == 1 }.count
    }
}

extension OnlineTraining {
    static let checkpointFormat = "coppice-online-1"

    /// Every model, mask and the state (with the logs' sizes) in one safetensors file, written atomically.
    func writeCheckpoint() throws {
        var tensors: [String: Tensor] = [:]
        for (name, value) in dense.stateDict() { tensors["dense." + name] = value }
        for (i, model) in serving.enumerated() {
            for (name, parameter) in model.namedParameters(includingBuffers: true) {
                tensors["serving\(i).\(name)"] = parameter.value
                if let mask = parameter.mask { tensors["mask\(i).\(name)"] = mask }
            }
        }
        try CheckpointFile.write(tensors, state: state, format: Self.checkpointFormat, to: checkpointPath)
    }

    func loadCheckpoint() throws {
        let (tensors, saved) = try CheckpointFile.read(checkpointPath, format: Self.checkpointFormat, as: OnlineState.self)
        guard saved.configuration == configuration else {
            throw TrainingError.checkpoint(
                "\(checkpointPath) was written by a run with other options (stream '\(saved.configuration.stream)', \(saved.configuration.variants.count) variants, sparsity \(saved.configuration.sparsity)); resume with the same options"
            )
        }
        func part(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        do {
            try dense.load(stateDict: part("dense."))
            for (i, model) in serving.enumerated() {
                try model.load(stateDict: part("serving\(i)."))
                let masks = part("mask\(i).")
                for (name, parameter) in model.namedParameters() {
                    guard let mask = masks[name] else { parameter.mask = nil; continue }
                    guard mask.shape == parameter.shape else {
                        throw TrainingError.checkpoint("mask \(name) has shape \(mask.shape), the weight \(parameter.shape)")
                    }
                    parameter.mask = mask
                }
            }
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError.checkpoint("\(checkpointPath): \(error)")
        }
        try OnlineReport.truncateLogs(in: outputDirectory, to: (saved.csvBytes, saved.jsonlBytes))
        state = saved
    }
}
