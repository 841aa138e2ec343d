import CoppiceRec
import CoppiceRuns
import CoppiceTensor
import Foundation
import Testing

@Suite struct BinaryMetricsTests {
    struct Fixture: Decodable {
        var labels: [Int], predictions: [Float], train_ctr: Double
        var auc: Double, log_loss: Double, normalized_entropy: Double, calibration: Double, accuracy: Double
    }

    @Test func matchesScikitLearnOnTheCommittedFixture() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/binary_metrics.json").path
        let f = try JSONDecoder().decode(Fixture.self, from: try #require(FileManager.default.contents(atPath: path)))
        let s = try BinaryMetrics.summary(predictions: f.predictions, labels: f.labels.map(Float.init), trainingCTR: f.train_ctr)
        #expect(abs(try #require(s.auc) - f.auc) < 1e-12, "ties get half credit")
        #expect(abs(s.logLoss - f.log_loss) < 1e-9)
        #expect(abs(try #require(s.normalizedEntropy) - f.normalized_entropy) < 1e-9)
        #expect(abs(try #require(s.calibration) - f.calibration) < 1e-9)
        #expect(abs(s.accuracy - f.accuracy) < 1e-12)
    }

    @Test func edgeCasesAndBadInput() throws {
        #expect(BinaryMetrics.auc(predictions: [0.1, 0.9], labels: [1, 1]) == nil)
        #expect(BinaryMetrics.auc(predictions: [0.5, 0.5], labels: [0, 1]) == 0.5)
        #expect(BinaryMetrics.auc(predictions: [0.2, 0.8], labels: [0, 1]) == 1)
        let confidentMistake = try BinaryMetrics.summary(predictions: [0], labels: [1], trainingCTR: 0.5)
        #expect(confidentMistake.logLoss.isFinite && abs(confidentMistake.logLoss + log(1e-7)) < 1e-9)
        #expect(throws: TrainingError.self) { try BinaryMetrics.summary(predictions: [0.5], labels: [2], trainingCTR: nil) }
        #expect(throws: TrainingError.self) { try BinaryMetrics.summary(predictions: [.nan], labels: [1], trainingCTR: nil) }
        #expect(throws: TrainingError.self) { try BinaryMetrics.summary(predictions: [0.5, 0.1], labels: [1], trainingCTR: nil) }
    }

    @Test func windowKeepsTheLastExamples() throws {
        var stream = try StreamingBinaryMetrics(window: 2, trainingCTR: 0.5)
        try stream.add(predictions: [0.9, 0.1], labels: [0, 1])
        try stream.add(predictions: [0.2, 0.8], labels: [0, 1])
        #expect(try stream.windowed().auc == 1 && stream.windowed().count == 2)
        #expect(stream.lifetime().auc == 0.25 && stream.lifetime().count == 4, "one of four positive–negative pairs ordered right")
        #expect(throws: TrainingError.self) { try stream.add(predictions: [0.5], labels: [3]) }
        #expect(stream.lifetime().count == 4, "a rejected batch is not counted")
    }

    @Test func boundedLifetimeMatchesTheExactMetrics() throws {
        var rng = RandomGenerator(seed: 5)
        let labels = (0..<20_000).map { _ in Float(rng.nextUniform() < 0.3 ? 1 : 0) }
        let predictions = labels.map { y in 1 / (1 + exp(-(Float(y) * 1.2 - 1 + 2 * (rng.nextUniform() - 0.5)))) }
        var stream = try StreamingBinaryMetrics(window: 3000, trainingCTR: 0.3)
        for start in stride(from: 0, to: labels.count, by: 777) {
            let end = min(start + 777, labels.count)
            try stream.add(predictions: Array(predictions[start..<end]), labels: Array(labels[start..<end]))
        }
        let exact = try BinaryMetrics.summary(predictions: predictions, labels: labels, trainingCTR: 0.3)
        let bounded = stream.lifetime()
        #expect(abs(bounded.auc! - exact.auc!) < 1e-4 && abs(bounded.logLoss - exact.logLoss) < 1e-9)
        #expect(abs(bounded.normalizedEntropy! - exact.normalizedEntropy!) < 1e-9 && bounded.accuracy == exact.accuracy)
        let window = try BinaryMetrics.summary(predictions: Array(predictions.suffix(3000)), labels: Array(labels.suffix(3000)), trainingCTR: 0.3)
        let windowed = try stream.windowed()
        #expect(windowed.count == 3000 && windowed.auc == window.auc && abs(windowed.logLoss - window.logLoss) < 1e-9)
        let decoded = try JSONDecoder().decode(StreamingBinaryMetrics.self, from: JSONEncoder().encode(stream))
        #expect(decoded == stream)
    }
}
