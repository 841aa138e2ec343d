import CoppiceFormats
import CoppiceRuns
import Foundation

extension SpatialWinogradRun {
    /// `coppice spatial-winograd` as a library call: runs every stage, measures the pruned model at
    /// `reportBatchSize` (sparsity-report.*, sparsity.svg), writes report.html, and returns each
    /// stage's accuracy and Winograd sparsity with the whole-model timings as result rows.
    public func runAndMeasure(reportBatchSize: Int) throws -> [BenchmarkResult] {
        let results = try run()
        let report = try SparsityReportFiles.measure(
            runDirectory: outputDirectory, batchSize: reportBatchSize,
            dataDirectory: configuration.dataDirectory)
        try AtomicFile.write(
            Data(SpatialWinogradReport.html(results: results, recipe: recipe, configuration: configuration, speed: report).utf8),
            to: outputDirectory + "/report.html")
        var rows: [BenchmarkResult] = []
        for r in results {
            let name = "\(r.phase) \(r.stage) (target \(String(format: "%.2f", r.target)))"
            rows.append(BenchmarkResult(suite: "spatial-winograd", case: name, metric: "test accuracy", unit: "%", value: 100 * r.testAccuracy))
            rows.append(
                BenchmarkResult(suite: "spatial-winograd", case: name, metric: "Winograd sparsity", unit: "%", value: 100 * r.winogradSparsity))
        }
        return rows + SparsityReportFiles.rows(report).filter { $0.case.hasPrefix("whole model") }
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
