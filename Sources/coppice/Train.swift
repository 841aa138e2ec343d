import ArgumentParser
import CoppiceBench
import CoppiceTraining
import CoppiceVision
import Foundation

extension VisionModel: ExpressibleByArgument {}
extension DatasetName: ExpressibleByArgument {}
extension TrainingConfiguration.Schedule: ExpressibleByArgument {}

/// The options shared by `train` and `prune`.
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
    @Option(name: .customLong("lr-schedule"), help: "Learning-rate schedule over all steps: constant, cosine, step.")
    var learningRateSchedule: TrainingConfiguration.Schedule = .cosine
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing ε.") var labelSmoothing: Float = 0
    @Option(name: .customLong("crop-padding"), help: "Random-crop padding in pixels (0: off).") var cropPadding = 0
    @Flag(name: .customLong("flip"), help: "Random horizontal flips.") var horizontalFlip = false
    @Option(help: "Random seed (initialization, data order, augmentation).") var seed: UInt64 = 0
    @Option(name: .customLong("train-limit"), help: "Use only the first N training images (0: all).") var trainLimit = 0
    @Option(name: .customLong("test-limit"), help: "Use only the first N test images (0: all).") var testLimit = 0
    @Flag(help: "Continue from the checkpoint in --output if there is one.") var resume = false
    @Option(help: "Result format: md, csv or json.") var format: ReportFormat = .md
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

    /// The run's final numbers as result rows.
    func results(_ history: [EpochRecord], name: String) -> [BenchmarkResult] {
        guard let last = history.last else { return [] }
        let mean = history.map(\.seconds).reduce(0, +) / Double(history.count)
        return [
            BenchmarkResult(suite: "train", case: name, metric: "test accuracy", unit: "%", value: 100 * last.testAccuracy),
            BenchmarkResult(suite: "train", case: name, metric: "test loss", unit: "nats", value: last.testLoss),
            BenchmarkResult(suite: "train", case: name, metric: "train loss", unit: "nats", value: last.trainLoss),
            BenchmarkResult(suite: "train", case: name, metric: "epoch time", unit: "s", value: mean),
        ]
    }
}

/// `coppice train [image] …` (the default) and `coppice train dlrm …`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model: an image classifier (the default: coppice train --model …), a DLRM (coppice train dlrm …) or a Llama (coppice train llama …).",
        subcommands: [TrainImage.self, DLRMCommand.self, TrainLlama.self], defaultSubcommand: TrainImage.self)
}

struct TrainImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Train an image classifier; writes checkpoints, logs, curves and a report into --output.")

    @OptionGroup var options: TrainingOptions
    @Option(help: "Output directory (default: runs/<model>-<dataset>-seed<seed>).") var output: String?

    func run() throws {
        let directory = output ?? "runs/\(options.configuration.model.rawValue)-\(options.dataset.rawValue)-seed\(options.seed)"
        let trainer = try Trainer(configuration: options.configuration, outputDirectory: directory, progress: options.progress)
        let history = try trainer.run(resume: options.resume)
        print(try options.format.render(options.results(history, name: "\(options.configuration.model.rawValue) \(options.dataset.rawValue)")))
        FileHandle.standardError.write(Data("results in \(directory)/ (report.html, curves.svg, log.csv, checkpoint.safetensors)\n".utf8))
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on its dataset's test set.")

    @Argument(help: "A checkpoint.safetensors written by `coppice train`.") var checkpoint: String
    @Option(name: .customLong("data-dir"), help: "Directory with the dataset's files (default: as when trained).")
    var dataDirectory: String?
    @Option(help: "Result format: md, csv or json.") var format: ReportFormat = .md

    func run() throws {
        let saved = try Checkpoint.read(from: checkpoint)
        var configuration = saved.configuration
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        let directory = (checkpoint as NSString).deletingLastPathComponent
        let trainer = try Trainer(configuration: configuration, outputDirectory: directory.isEmpty ? "." : directory,
                                  progress: TrainingProgress(style: .silent))
        try trainer.model.load(stateDict: saved.model)
        let (loss, accuracy) = trainer.evaluateTestSet()
        let name = "\(configuration.model.rawValue) \(configuration.dataset.rawValue) epoch \(saved.epoch)"
        print(try format.render([
            BenchmarkResult(suite: "eval", case: name, metric: "test accuracy", unit: "%", value: 100 * accuracy),
            BenchmarkResult(suite: "eval", case: name, metric: "test loss", unit: "nats", value: loss),
        ]))
    }
}
