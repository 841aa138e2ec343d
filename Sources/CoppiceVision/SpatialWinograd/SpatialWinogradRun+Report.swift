import CoppiceFormats
import CoppiceRuns
import CoppiceSparsity
import Foundation

extension SpatialWinogradRun {
    /// `coppice spatial-winograd` as a library call: runs every stage, measures the pruned model at each
    /// of `reportBatchSizes` (sparsity-report.*, sparsity.svg and report.html are the first size's),
    /// and returns each stage's accuracy and sparsities with the whole-model rows of every size.
    public func runAndMeasure(reportBatchSizes: [Int]) throws -> [BenchmarkResult] {
        let results = try run()
        var wholeModel: [BenchmarkResult] = []
        var first: ModelReport?
        for batchSize in reportBatchSizes {
            let report =
                first == nil
                ? try SparsityReportFiles.measure(runDirectory: outputDirectory, batchSize: batchSize, dataDirectory: configuration.dataDirectory)
                : try SparsityAnalysis.report(runDirectory: outputDirectory, batchSize: batchSize, dataDirectory: configuration.dataDirectory)
            first = first ?? report
            wholeModel += SparsityReportFiles.rows(report).filter { $0.case.hasPrefix("whole model") }
        }
        guard let report = first else { throw TrainingError.invalidConfiguration("no batch size to measure the pruned model at") }
        try AtomicFile.write(
            Data(SpatialWinogradReport.html(results: results, recipe: recipe, configuration: configuration, speed: report).utf8),
            to: outputDirectory + "/report.html")
        var rows: [BenchmarkResult] = []
        for r in results {
            let name = "\(r.phase) \(r.stage) (target \(String(format: "%.2f", r.target)))"
            rows.append(BenchmarkResult(suite: "spatial-winograd", case: name, metric: "test accuracy", unit: "%", value: 100 * r.testAccuracy))
            rows.append(
                BenchmarkResult(suite: "spatial-winograd", case: name, metric: "Winograd sparsity", unit: "%", value: 100 * r.winogradSparsity))
            if let linear = r.linearSparsity, linear > 0 {
                rows.append(BenchmarkResult(suite: "spatial-winograd", case: name, metric: "Linear sparsity", unit: "%", value: 100 * linear))
            }
        }
        return rows + wholeModel
    }

    /// A run of `recipe` on `configuration`'s dataset (loaded here) in `outputDirectory`, by default
    /// runs/<model>-<dataset>-<method>-seed<seed>.
    public static func make(
        configuration: TrainingConfiguration, recipe: SpatialWinogradRecipe, outputDirectory: String? = nil,
        denseRun: String? = nil, progress: TrainingProgress = .automatic()
    ) throws -> SpatialWinogradRun {
        let c = configuration
        let directory = outputDirectory ?? "runs/\(c.model.rawValue)-\(c.dataset.rawValue)-\(recipe.method.rawValue)-seed\(c.seed)"
        return try SpatialWinogradRun(
            configuration: c, recipe: recipe, outputDirectory: directory,
            datasets: try c.dataset.load(directory: c.dataDirectory), denseRun: denseRun, progress: progress)
    }
}
