import CoppiceData
import CoppiceDistributed
import CoppiceFormats
import CoppiceNN
import CoppiceOptimizers
import CoppiceRuns
import CoppiceSparsity
import CoppiceTensor
import Foundation

/// Trains an image classifier with SGD (momentum, weight decay, a per-step LR schedule), evaluating
/// after every epoch and writing into `outputDirectory`: `checkpoint.safetensors` (every epoch,
/// atomically), `log.csv` and `log.jsonl`, `config.json`, and at the end `model.safetensors`,
/// `summary.json`, `curves.svg` and `report.html`.
///
/// A run resumed from its checkpoint continues exactly: the data order and augmentation of an epoch
/// depend only on (seed, epoch), and weights, momentum, step and generator states are restored.
///
/// With `parallel` (several MPI ranks), every rank builds the same global batches and trains on its
/// shard of each; the gradients are reduced over the ranks, so the replicas take one process's steps
/// (batch-norm statistics are each shard's, their running averages averaged over the ranks; dropout
/// draws differ). Only rank 0 writes; a resumed run may have another number of ranks.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let outputDirectory: String
    public let model: Sequential
    public let optimizer: SGD
    let trainLoader: DataLoader
    let testLoader: DataLoader
    public private(set) var history: [EpochRecord] = []
    private(set) var step = 0
    private let progress: TrainingProgress
    /// Prunes during training when the run has a recipe (masks are kept in checkpoints). A `model`
    /// given to `init` is trained as it is (with the masks its parameters hold); `winogradWeights`
    /// converts the convolutions whose initial weights are Winograd-domain.
    public let pruner: Pruner?
    /// The ranks this run is spread over (nil: this process alone).
    public let parallel: DataParallel?
    var writes: Bool { parallel?.communicator.isRoot ?? true }

    public var checkpointPath: String { outputDirectory + "/checkpoint.safetensors" }

    public init(
        configuration: TrainingConfiguration, outputDirectory: String, datasets: (train: ImageDataset, test: ImageDataset)? = nil,
        recipe: PruningRecipe? = nil, initialWeights: [String: Tensor]? = nil, winogradWeights: Bool = false,
        model given: Sequential? = nil, progress: TrainingProgress = .automatic(), parallel: DataParallel? = nil
    ) throws(TrainingError) {
        try configuration.validate()
        self.parallel = parallel
        self.configuration = configuration
        self.outputDirectory = outputDirectory
        self.progress = progress
        var (train, test): (ImageDataset, ImageDataset)
        if let datasets {
            (train, test) = datasets
        } else {
            do { (train, test) = try configuration.dataset.load(directory: configuration.dataDirectory) } catch { throw .data(error.description) }
        }
        if configuration.trainLimit > 0 { train = train.prefix(configuration.trainLimit) }
        if configuration.testLimit > 0 { test = test.prefix(configuration.testLimit) }
        guard train.height == train.width, test.height == train.height, test.channels == train.channels else {
            throw .data(
                "training images \(train.channels)×\(train.height)×\(train.width) and test images \(test.channels)×\(test.height)×\(test.width) must be square and alike"
            )
        }
        var rng = RandomGenerator(seed: configuration.seed)
        model = given ?? configuration.model.make(inChannels: train.channels, imageSize: train.height, classes: train.classCount, using: &rng)
        if let initialWeights, winogradWeights { WinogradModel.convertToMatch(model, stateDict: initialWeights) }
        if let initialWeights {
            do { try model.load(stateDict: initialWeights) } catch { throw .checkpoint("initial weights: \(error)") }
        }
        do { try parallel?.broadcastParameters(model) } catch { throw .distributed(error.description) }
        if let recipe {
            do { pruner = try Pruner(model: model, recipe: recipe) } catch { throw .invalidConfiguration(error.description) }
        } else {
            pruner = nil
        }
        optimizer = SGD(
            parameters: model.parameters(), learningRate: configuration.learningRate, momentum: configuration.momentum,
            weightDecay: configuration.weightDecay)
        let normalization = configuration.dataset.normalization
        var augmentation = Augmentation(
            cropPadding: configuration.cropPadding, horizontalFlip: configuration.horizontalFlip,
            mean: normalization.mean, standardDeviation: normalization.standardDeviation)
        if augmentation.mean.count != train.channels {
            augmentation.mean = Array(repeating: 0.5, count: train.channels)
            augmentation.standardDeviation = Array(repeating: 0.25, count: train.channels)
        }
        do {
            trainLoader = try DataLoader(
                dataset: train, batchSize: configuration.batchSize, shuffle: true, dropLast: false,
                augmentation: augmentation, seed: configuration.seed)
            testLoader = try DataLoader(dataset: test, batchSize: 1000, shuffle: false, augmentation: augmentation.normalizationOnly)
        } catch {
            throw .data(error.description)
        }
    }

    /// Trains to the configured number of epochs (from the checkpoint when `resume` and one exists).
    /// `stopAfter` ends the run early after that many epochs in total, as an interruption would.
    @discardableResult
    public func run(resume: Bool = false, stopAfter: Int? = nil) throws(TrainingError) -> [EpochRecord] {
        if writes { try createDirectory() }
        var startEpoch = 0
        if resume, FileManager.default.fileExists(atPath: checkpointPath) {
            startEpoch = try restore(from: checkpointPath)
            progress.note("resuming from \(checkpointPath) after epoch \(startEpoch)")
        }
        if writes { try writeJSON(configuration, to: outputDirectory + "/config.json") }
        let totalSteps = configuration.epochs * trainLoader.batchCount
        let lastEpoch = min(configuration.epochs, stopAfter ?? configuration.epochs)
        for epoch in startEpoch..<lastEpoch {
            let started = Date()
            model.setTraining(true)
            var lossSum = 0.0, correct = 0, seen = 0
            var batchIndex = 0
            for batch in trainLoader.batches(epoch: epoch) {
                let rate = learningRate(at: step, of: totalSteps)
                optimizer.learningRate = rate
                optimizer.zeroGrad()
                var (loss, hits) = try trainStep(on: batch)
                if let parallel {
                    let share = Float(hits.rows) / Float(batch.labels.count)
                    let totals: [Float]
                    do {
                        totals = try parallel.reduceGradients(
                            model.parameters(), weight: share, extras: [loss * Float(hits.rows), Float(hits.correct), loss.isFinite ? 0 : 1])
                    } catch {
                        throw .distributed(error.description)
                    }
                    guard totals[2] == 0 else { throw .nonFiniteLoss(step: step, epoch: epoch + 1, layer: "the shard of one of the ranks") }
                    (loss, hits.correct) = (totals[0] / Float(batch.labels.count), Int(totals[1]))
                }
                pruner?.accumulateScores()
                optimizer.step()
                do { try parallel?.averageBuffers(model) } catch { throw .distributed(error.description) }
                if let pruner {
                    do { try pruner.step(step) } catch { throw .invalidConfiguration(error.description) }
                }
                step += 1
                batchIndex += 1
                lossSum += Double(loss) * Double(batch.labels.count)
                correct += hits.correct
                seen += batch.labels.count
                progress.step(
                    epoch: epoch + 1, epochs: configuration.epochs, batch: batchIndex, batches: trainLoader.batchCount,
                    loss: lossSum / Double(seen), rate: Double(seen) / Date().timeIntervalSince(started))
            }
            let trainSeconds = Date().timeIntervalSince(started)
            let (testLoss, testAccuracy) = evaluate(testLoader)
            let record = EpochRecord(
                epoch: epoch + 1, step: step, trainLoss: lossSum / Double(max(seen, 1)),
                trainAccuracy: Double(correct) / Double(max(seen, 1)), testLoss: testLoss,
                testAccuracy: testAccuracy, learningRate: Double(optimizer.learningRate), seconds: trainSeconds)
            history.append(record)
            progress.epochDone(record, epochs: configuration.epochs)
            do { try parallel?.checkReplicasAgree(model) } catch { throw .distributed(error.description) }
            if writes {
                try writeLogs()
                try checkpoint(epoch: epoch + 1).write(to: checkpointPath)
            }
        }
        if lastEpoch == configuration.epochs {
            if let pruner { pruner.finalize() }
            if writes { try writeResults() }
        }
        return history
    }

    /// Forward and backward on this rank's rows of `batch` (all of it alone): the mean loss over those
    /// rows and how many it classified right; nothing to do on an empty shard. Without ranks, a
    /// non-finite loss stops the run here, naming where it began.
    private func trainStep(on batch: Batch) throws(TrainingError) -> (loss: Float, hits: (rows: Int, correct: Int)) {
        let rows = parallel?.shard(of: batch.labels.count) ?? 0..<batch.labels.count
        guard !rows.isEmpty else { return (0, (0, 0)) }
        let images = rows.count == batch.labels.count ? batch.images : batch.images.sliced(axis: 0, rows)
        let labels = Array(batch.labels[rows])
        let logits = model(images)
        let loss: Tensor
        do { loss = try Loss.crossEntropy(logits, labels: labels, labelSmoothing: configuration.labelSmoothing) } catch {
            throw .data(error.description)
        }
        let value = loss.item
        guard value.isFinite || parallel != nil else {
            throw .nonFiniteLoss(step: step, epoch: step / max(trainLoader.batchCount, 1) + 1, layer: locateNonFinite(images))
        }
        loss.backward()
        return (value, (rows.count, zip(logits.argmax(alongAxis: 1), labels).filter { $0 == $1 }.count))
    }

    /// Mean cross-entropy and top-1 accuracy over a loader, in evaluation mode without a tape.
    public func evaluate(_ loader: DataLoader) -> (loss: Double, accuracy: Double) {
        model.setTraining(false)
        defer { model.setTraining(true) }
        return evaluate(loader, with: model.callAsFunction)
    }

    /// Mean cross-entropy and accuracy of `forward` (the model, or its inference form) on `loader`.
    public func evaluate(_ loader: DataLoader, with forward: (Tensor) -> Tensor) -> (loss: Double, accuracy: Double) {
        var lossSum = 0.0, correct = 0, seen = 0
        withoutGradient {
            for batch in loader.batches(epoch: 0) {
                let logits = forward(batch.images)
                if let loss = try? Loss.crossEntropy(logits, labels: batch.labels) { lossSum += Double(loss.item) * Double(batch.labels.count) }
                correct += zip(logits.argmax(alongAxis: 1), batch.labels).filter { $0 == $1 }.count
                seen += batch.labels.count
            }
        }
        return (lossSum / Double(max(seen, 1)), Double(correct) / Double(max(seen, 1)))
    }

    public func evaluateTestSet() -> (loss: Double, accuracy: Double) { evaluate(testLoader) }

    /// The first `count` test images, normalized as in evaluation (a real input for timing).
    public func sampleTestImages(_ count: Int) -> Tensor {
        let loader =
            (try? DataLoader(
                dataset: testLoader.dataset.prefix(count), batchSize: count, shuffle: false,
                augmentation: testLoader.augmentation)) ?? testLoader
        return loader.batch(0, epoch: 0, order: Array(0..<min(count, loader.dataset.count))).images
    }

    func learningRate(at step: Int, of total: Int) -> Float {
        switch configuration.schedule {
        case .constant: configuration.learningRate
        case .cosine: CosineAnnealing(base: configuration.learningRate, totalSteps: max(total, 1)).learningRate(at: step)
        case .step: StepDecay(base: configuration.learningRate, stepSize: max(total / 3, 1), gamma: 0.1).learningRate(at: step)
        }
    }

    /// Names the first layer whose output on `images` is not finite, or the first parameter holding NaN/Inf.
    func locateNonFinite(_ images: Tensor) -> String {
        var x = images
        for (index, layer) in model.layers.enumerated() {
            x = withoutGradient { layer(x) }
            if x.hasNonFinite { return "layer \(index) (\(type(of: layer)))" }
        }
        for (name, parameter) in model.namedParameters() where parameter.value.hasNonFinite { return "parameter \(name)" }
        return "the loss (all layer outputs are finite)"
    }

    func checkpoint(epoch: Int) -> Checkpoint {
        var masks: [String: Tensor] = [:]
        for (name, parameter) in pruner?.targets ?? [] { if let mask = parameter.mask { masks[name] = mask } }
        return Checkpoint(
            configuration: configuration, epoch: epoch, step: step, history: history, model: model.stateDict(),
            optimizer: optimizer.stateTensors(), generators: model.generatorStates(), masks: masks)
    }

    /// Loads a checkpoint of this configuration; returns the number of epochs it completed.
    func restore(from path: String) throws(TrainingError) -> Int {
        let saved = try Checkpoint.read(from: path)
        guard saved.configuration == configuration else {
            throw .checkpoint("\(path) was written by a run with a different configuration; resume with the same options or another --output")
        }
        do {
            try model.load(stateDict: saved.model)
            try optimizer.loadState(saved.optimizer)
        } catch {
            throw .checkpoint("\(path): \(error)")
        }
        model.restoreGenerators(saved.generators)
        for (name, parameter) in pruner?.targets ?? [] { parameter.mask = saved.masks[name] ?? parameter.mask }
        history = saved.history
        step = saved.step
        return saved.epoch
    }

    private func createDirectory() throws(TrainingError) {
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw .checkpoint("cannot create \(outputDirectory): \(error.localizedDescription)")
        }
    }

    private func writeLogs() throws(TrainingError) {
        var csv = "epoch,step,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds\n"
        var jsonl = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for r in history {
            csv += "\(r.epoch),\(r.step),\(r.trainLoss),\(r.trainAccuracy),\(r.testLoss),\(r.testAccuracy),\(r.learningRate),\(r.seconds)\n"
            if let line = try? encoder.encode(r) { jsonl += String(decoding: line, as: UTF8.self) + "\n" }
        }
        try atomically(Data(csv.utf8), outputDirectory + "/log.csv")
        try atomically(Data(jsonl.utf8), outputDirectory + "/log.jsonl")
    }

    private func writeResults() throws(TrainingError) {
        if let recipe = pruner?.recipe {
            do { try recipe.save(to: outputDirectory + "/recipe.json") } catch { throw .checkpoint(error.description) }
        }
        do {
            try Safetensors.write(
                model.stateDict(), metadata: ["format": "pt", "model": configuration.model.rawValue],
                to: outputDirectory + "/model.safetensors")
        } catch {
            throw .checkpoint(error.description)
        }
        let summary = RunSummary(configuration: configuration, history: history, parameters: model.parameterCount())
        try writeJSON(summary, to: outputDirectory + "/summary.json")
        try atomically(Data(RunReport.curvesSVG(history).utf8), outputDirectory + "/curves.svg")
        try atomically(Data(RunReport.html(summary).utf8), outputDirectory + "/report.html")
    }

    private func writeJSON<T: Encodable>(_ value: T, to path: String) throws(TrainingError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(value) else { throw .checkpoint("cannot encode \(path)") }
        try atomically(data, path)
    }

    private func atomically(_ data: Data, _ path: String) throws(TrainingError) {
        do { try AtomicFile.write(data, to: path) } catch { throw .checkpoint(error.description) }
    }
}
