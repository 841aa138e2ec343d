import CoppiceNN
import CoppiceRuns
import CoppiceSparsity
import CoppiceTensor
import CoppiceVision
import Foundation
import Testing

/// The library halves of `coppice train`, `coppice report` and `coppice spatial-winograd`.
@Suite struct RunResultsTests {
    @Test func aRunsFinalNumbersAreTheLastEpochAndTheMeanTime() {
        func record(_ epoch: Int, _ accuracy: Double, _ seconds: Double) -> EpochRecord {
            EpochRecord(
                epoch: epoch, step: 10 * epoch, trainLoss: 1.0 / Double(epoch), trainAccuracy: accuracy, testLoss: 2.0 / Double(epoch),
                testAccuracy: accuracy, learningRate: 0.1, seconds: seconds)
        }
        let rows = EpochRecord.resultRows([record(1, 0.5, 2), record(2, 0.75, 4)], name: "lenet5 mnist")
        #expect(rows.map(\.metric) == ["test accuracy", "test loss", "train loss", "epoch time"])
        #expect(rows.map(\.value) == [75, 1, 0.5, 3])
        #expect(EpochRecord.resultRows([], name: "x").isEmpty)
    }

    @Test func theSparsityReportBecomesRowsAndFiles() throws {
        var rng = RandomGenerator(seed: 3)
        let model = Sequential([
            Flatten(), Linear(inFeatures: 64, outFeatures: 32, using: &rng), ReLU(), Linear(inFeatures: 32, outFeatures: 4, using: &rng),
        ])
        for layer in model.layers.compactMap({ $0 as? Linear }) {
            let w = layer.weight.value
            layer.weight.value = try Tensor(shape: w.shape, values: w.scalars.map { abs($0) < 0.05 ? 0 : $0 })
        }
        let report = SparseExecution.optimize(model, input: Tensor.normal([2, 1, 8, 8], using: &rng), budget: 0.02).report
        let rows = SparsityReportFiles.rows(report)
        #expect(rows.count == (11 + 2) * 2 + 5, "eleven rows a layer, one per measured path (dense, csr), five for the whole model")
        #expect(rows.contains { $0.metric == "path csr time" })
        #expect(rows.suffix(5).map(\.metric) == ["sparsity", "FLOP sparsity", "dense time", "chosen paths time", "speedup"])
        let directory = NSTemporaryDirectory() + "coppice-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SparsityReportFiles.write(report, to: directory)
        let written = try JSONDecoder().decode(ModelReport.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/sparsity-report.json")))
        #expect(written == report)
        #expect(
            FileManager.default.fileExists(atPath: directory + "/sparsity-report.md")
                && FileManager.default.fileExists(atPath: directory + "/sparsity.svg"))
    }

    @Test func spatialWinogradOptionsFillTheMethodsSteps() {
        let spatialWinograd = SpatialWinogradRecipe(method: .spatialWinograd)
        #expect(spatialWinograd.spatialStages == SpatialWinogradRecipe.fashionMNIST.spatialStages)
        #expect(spatialWinograd.winogradStages == SpatialWinogradRecipe.fashionMNIST.winogradStages)
        let direct = SpatialWinogradRecipe(method: .winogradDirect, winogradTargets: [0.5, 0.6], stageEpochs: 2, winogradLearningRate: 1e-4)
        #expect(direct.spatialStages.isEmpty && direct.winogradStages.map(\.target) == [0.5, 0.6])
        #expect(direct.winogradStages.allSatisfy { $0.epochs == 2 && $0.learningRate == 1e-4 })
        let unstructured = SpatialWinogradRecipe(method: .spatialUnstructured, tile: 2, importance: false)
        #expect(unstructured.winogradStages.isEmpty && unstructured.tile == 2 && !unstructured.importance)
    }
}
