import CoppiceFormats
import CoppiceNN
import CoppiceRuns
import CoppiceSparsity
import CoppiceTensor
import Foundation

/// `coppice report`: a trained (pruned) run's model measured layer by layer, dense against sparse, on
/// real test images, with the faster path chosen per layer.
public enum SparsityAnalysis {
    /// Loads `runDirectory`'s config.json and model.safetensors and measures at `batchSize`.
    public static func report(runDirectory: String, batchSize: Int, dataDirectory: String? = nil) throws(TrainingError) -> ModelReport {
        try inferenceModel(runDirectory: runDirectory, batchSize: batchSize, dataDirectory: dataDirectory).report
    }

    /// `runDirectory`'s model in its inference form, on the paths that measured fastest at `batchSize`
    /// on real test images.
    public static func inferenceModel(
        runDirectory: String, batchSize: Int, dataDirectory: String? = nil
    ) throws(TrainingError) -> SparseInferenceModel {
        guard batchSize > 0 else { throw .invalidConfiguration("batch size must be positive, got \(batchSize)") }
        let configPath = runDirectory + "/config.json"
        guard let data = FileManager.default.contents(atPath: configPath),
            var configuration = try? JSONDecoder().decode(TrainingConfiguration.self, from: data)
        else {
            throw .checkpoint("\(configPath): missing or not a training configuration (is \(runDirectory) a `coppice train`/`prune` output?)")
        }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        let weights: [String: Tensor]
        do { weights = try SafetensorsFile(path: runDirectory + "/model.safetensors").tensors() } catch { throw .checkpoint(error.description) }
        let trainer = try Trainer(
            configuration: configuration, outputDirectory: runDirectory, initialWeights: weights,
            winogradWeights: true, progress: TrainingProgress(style: .silent))
        return SparseInferenceModel(trainer.model, input: trainer.sampleTestImages(batchSize))
    }
}
