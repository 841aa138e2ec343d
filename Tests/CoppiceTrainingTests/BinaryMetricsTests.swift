import CoppiceTraining
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
        var stream = StreamingBinaryMetrics(window: 2, trainingCTR: 0.5)
        try stream.add(predictions: [0.9, 0.1], labels: [0, 1])
        try stream.add(predictions: [0.2, 0.8], labels: [0, 1])
        #expect(try stream.windowed().auc == 1 && stream.windowed().count == 2)
        #expect(try stream.lifetime().auc == 0.25 && stream.lifetime().count == 4, "one of four positive–negative pairs ordered right")
    }
}
