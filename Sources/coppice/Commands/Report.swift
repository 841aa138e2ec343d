import ArgumentParser
import CoppiceRuns
import CoppiceVision

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per layer: sparsity, parameters, FLOPs, bytes, measured time dense vs sparse, speedup and the chosen path.")

    @Argument(help: "A run directory written by `coppice train` or `coppice prune`.") var runDirectory: String
    @Option(name: .customLong("batch-size"), help: "Batch size to measure at (real test images).") var batchSize = 1
    @Option(name: .customLong("data-dir"), help: "Directory with the dataset's files (default: as when trained).")
    var dataDirectory: String?
    @Option(help: "Output format.") var format: ReportFormat = .md

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    }

    func run() throws {
        let report = try SparsityReportFiles.measure(runDirectory: runDirectory, batchSize: batchSize, dataDirectory: dataDirectory)
        print(try format.render(SparsityReportFiles.rows(report)))
        for warning in report.warnings { note("warning: \(warning)") }
    }
}
