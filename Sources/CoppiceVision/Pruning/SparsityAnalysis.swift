import CoppiceData
import CoppiceFormats
import CoppiceKernels
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
        let trainer = try trainer(runDirectory: runDirectory, batchSize: batchSize, dataDirectory: dataDirectory)
        return SparseInferenceModel(trainer.model, input: trainer.sampleTestImages(batchSize))
    }

    /// `coppice eval RUN`: the run's test set through its inference form (built at `batchSize`),
    /// with the accuracy of the model as trained beside it and the inference time per batch.
    public static func evaluate(runDirectory: String, batchSize: Int, dataDirectory: String? = nil) throws(TrainingError) -> [BenchmarkResult] {
        let trainer = try trainer(runDirectory: runDirectory, batchSize: batchSize, dataDirectory: dataDirectory)
        let trained = trainer.evaluateTestSet()
        let inference = SparseInferenceModel(trainer.model, input: trainer.sampleTestImages(batchSize))
        let loader: DataLoader
        do {
            loader = try DataLoader(
                dataset: trainer.testLoader.dataset, batchSize: batchSize, shuffle: false, augmentation: trainer.testLoader.augmentation)
        } catch { throw .data(error.description) }
        let started = Stopwatch.now()
        let (loss, accuracy) = trainer.evaluate(loader, with: inference.callAsFunction)
        let seconds = Stopwatch.now() - started
        let name = "\(trainer.configuration.model.rawValue) \(trainer.configuration.dataset.rawValue) inference batch \(batchSize)"
        return [
            BenchmarkResult(suite: "eval", case: name, metric: "test accuracy", unit: "%", value: 100 * accuracy),
            BenchmarkResult(suite: "eval", case: name, metric: "test loss", unit: "nats", value: loss),
            BenchmarkResult(suite: "eval", case: name, metric: "test accuracy as trained", unit: "%", value: 100 * trained.accuracy),
            BenchmarkResult(suite: "eval", case: name, metric: "images per second", unit: "1/s", value: Double(loader.dataset.count) / seconds),
        ]
    }

    /// A trainer holding `runDirectory`'s configuration and weights (Winograd layers as saved).
    static func trainer(runDirectory: String, batchSize: Int, dataDirectory: String?) throws(TrainingError) -> Trainer {
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
        return try Trainer(
            configuration: configuration, outputDirectory: runDirectory, initialWeights: weights,
            winogradWeights: true, progress: TrainingProgress(style: .silent))
    }
}
