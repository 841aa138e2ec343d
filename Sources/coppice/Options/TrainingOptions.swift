import ArgumentParser
import CoppiceRuns
import CoppiceVision

/// The options shared by `train`, `prune` and `spatial-winograd`.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Model (default: lenet5; spatial-winograd: vgg-fmnist): \(VisionModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: VisionModel?
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: DatasetName = .fashionMNIST
    @Option(name: .customLong("data-dir"), help: "Directory with the dataset's files (default: the dataset's folder under .data/).")
    var dataDirectory: String?
    @Option(help: "Epochs.") var epochs = 3
    @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize = 64
    @Option(name: .customLong("lr"), help: "Peak learning rate (SGD).") var learningRate: Float = 0.05
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay.") var weightDecay: Float = 5e-4
    @Option(name: .customLong("lr-schedule"), help: "Learning-rate schedule over all steps.")
    var learningRateSchedule: TrainingConfiguration.Schedule = .cosine
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing ε.") var labelSmoothing: Float = 0
    @Option(name: .customLong("crop-padding"), help: "Random-crop padding in pixels (0: off).") var cropPadding = 0
    @Flag(name: .customLong("flip"), help: "Random horizontal flips.") var horizontalFlip = false
    @Option(help: "Random seed (initialization, data order, augmentation).") var seed: UInt64 = 0
    @Option(name: .customLong("train-limit"), help: "Use only the first N training images (0: all).") var trainLimit = 0
    @Option(name: .customLong("test-limit"), help: "Use only the first N test images (0: all).") var testLimit = 0
    @Flag(help: "Continue from the checkpoint in --output if there is one.") var resume = false
    @Option(help: "Result format.") var format: ReportFormat = .md
    @Flag(help: "No progress output.") var quiet = false

    var configuration: TrainingConfiguration { configuration(defaultModel: .lenet5) }

    func configuration(defaultModel: VisionModel) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = model ?? defaultModel; c.dataset = dataset; c.dataDirectory = dataDirectory; c.epochs = epochs; c.batchSize = batchSize
        c.learningRate = learningRate; c.momentum = momentum; c.weightDecay = weightDecay; c.schedule = learningRateSchedule
        c.labelSmoothing = labelSmoothing; c.cropPadding = cropPadding; c.horizontalFlip = horizontalFlip; c.seed = seed
        c.trainLimit = trainLimit; c.testLimit = testLimit
        return c
    }

    func validate() throws {
        do { try configuration.validate() } catch { throw ValidationError(error.description) }
    }

    var progress: TrainingProgress { quiet ? TrainingProgress(style: .silent) : .automatic() }
}
