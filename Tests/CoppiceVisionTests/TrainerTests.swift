import CoppiceData
import CoppiceFormats
import CoppiceTensor
import CoppiceTestSupport
import CoppiceSparsity
import CoppiceRuns
import CoppiceVision
import Foundation
import Testing

func temporaryDirectory() -> String {
    NSTemporaryDirectory() + "coppice-train-\(UUID().uuidString)"
}

@Suite struct TrainerTests {
    var configuration: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = .lenet5
        c.dataset = .mnist
        c.epochs = 3
        c.batchSize = 16
        c.learningRate = 0.05
        c.seed = 11
        return c
    }
    let data = (train: syntheticImages(count: 96, seed: 1), test: syntheticImages(count: 32, seed: 2))

    @Test func resumedRunEqualsUninterruptedRun() throws {
        let whole = try Trainer(
            configuration: configuration, outputDirectory: temporaryDirectory(), datasets: data, progress: TrainingProgress(style: .silent))
        let expected = try whole.run()
        let directory = temporaryDirectory()
        let first = try Trainer(configuration: configuration, outputDirectory: directory, datasets: data, progress: TrainingProgress(style: .silent))
        let partial = try first.run(stopAfter: 1)
        #expect(partial.count == 1)
        let second = try Trainer(configuration: configuration, outputDirectory: directory, datasets: data, progress: TrainingProgress(style: .silent))
        let resumed = try second.run(resume: true)
        #expect(resumed.map(\.trainLoss) == expected.map(\.trainLoss))
        #expect(resumed.map(\.testLoss) == expected.map(\.testLoss))
        #expect(second.model.stateDict()["0.weight"]?.scalars == whole.model.stateDict()["0.weight"]?.scalars)
        #expect(expected.last!.testAccuracy > 0.9, "the synthetic task is learnable")
        for file in ["log.csv", "log.jsonl", "config.json", "summary.json", "curves.svg", "report.html", "model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: directory + "/" + file), "\(file)")
        }
        let csv = try String(contentsOfFile: directory + "/log.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 4)
    }

    @Test func resumingWithAnotherConfigurationIsRefused() throws {
        let directory = temporaryDirectory()
        try Trainer(configuration: configuration, outputDirectory: directory, datasets: data, progress: TrainingProgress(style: .silent)).run(
            stopAfter: 1)
        var other = configuration
        other.learningRate = 0.01
        let trainer = try Trainer(configuration: other, outputDirectory: directory, datasets: data, progress: TrainingProgress(style: .silent))
        #expect(throws: TrainingError.self) { try trainer.run(resume: true) }
    }

    @Test func nonFiniteLossStopsTheRunNamingStepAndLayer() throws {
        var exploding = configuration
        exploding.learningRate = 1e30
        exploding.momentum = 0
        exploding.schedule = .constant
        let trainer = try Trainer(
            configuration: exploding, outputDirectory: temporaryDirectory(), datasets: data, progress: TrainingProgress(style: .silent))
        do {
            try trainer.run()
            Issue.record("expected the run to stop")
        } catch let error as TrainingError {
            guard case .nonFiniteLoss(let step, _, let layer) = error else { Issue.record("wrong error \(error)"); return }
            #expect(step >= 1 && (layer.contains("layer") || layer.contains("parameter")), "\(error)")
        }
    }

    @Test func invalidOptionsAreRejected() {
        var bad = configuration
        bad.batchSize = 0
        #expect(throws: TrainingError.invalidConfiguration("batch size must be positive, got 0")) {
            try Trainer(configuration: bad, outputDirectory: temporaryDirectory(), datasets: data)
        }
    }

    @Test func checkpointsRoundTripAndRejectOtherFiles() throws {
        let directory = temporaryDirectory()
        let trainer = try Trainer(
            configuration: configuration, outputDirectory: directory, datasets: data, progress: TrainingProgress(style: .silent))
        try trainer.run(stopAfter: 1)
        let saved = try Checkpoint.read(from: trainer.checkpointPath)
        #expect(saved.epoch == 1 && saved.configuration == configuration && saved.history.count == 1)
        #expect(saved.optimizer.keys.contains("momentum.0") && saved.model["0.weight"]?.shape == [32, 1, 3, 3])
        let plain = directory + "/plain.safetensors"
        try Safetensors.write(["x": Tensor([1])], to: plain)
        #expect(throws: TrainingError.self) { try Checkpoint.read(from: plain) }
    }
}

@Suite struct PaperModelTests {
    /// Yu et al.'s models build for any channel and class count, run, and expose the 3×3 stride-1
    /// convolutions the paper prunes (papers.md §1.4: VGG-nagadomi's 8, ConvPool-CNN-C's 7 3×3, ResNet-18's 16).
    @Test(arguments: [(VisionModel.vggNagadomi, 8), (.convPoolCNNC, 7), (.resnet18Max, 16), (.vggFMNIST, 4)])
    func paperModelsRunAndListTheirWinogradConvolutions(model: VisionModel, convolutions: Int) {
        var rng = RandomGenerator(seed: 5)
        let size = model == .vggFMNIST ? 28 : 32
        let net = model.make(inChannels: 3, imageSize: size, classes: 7, using: &rng)
        net.setTraining(false)
        let y = withoutGradient { net(Tensor.normal([2, 3, size, size], using: &rng)) }
        #expect(y.shape == [2, 7])
        #expect(!y.hasNonFinite)
        #expect(WinogradModel.convolutions(in: net).count == convolutions)
    }
}
