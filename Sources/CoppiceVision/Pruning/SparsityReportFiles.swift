import CoppiceFormats
import CoppiceRuns
import CoppiceSparsity
import Foundation

/// The sparsity report (`coppice report`) as result rows, and its files beside a run:
/// sparsity-report.json, sparsity-report.md and sparsity.svg.
public enum SparsityReportFiles {
    public static func rows(_ report: ModelReport) -> [BenchmarkResult] {
        var rows: [BenchmarkResult] = []
        for l in report.layers {
            let name = "\(l.name) \(l.kind) \(l.shape.map(String.init).joined(separator: "x"))"
            rows += [
                .init(suite: "report", case: name, metric: "sparsity", unit: "%", value: 100 * l.sparsity),
                .init(suite: "report", case: name, metric: "parameters", unit: "count", value: Double(l.parameters)),
                .init(suite: "report", case: name, metric: "nonzeros", unit: "count", value: Double(l.nonzeros)),
                .init(suite: "report", case: name, metric: "dense FLOPs", unit: "FLOP", value: l.denseFLOPs),
                .init(suite: "report", case: name, metric: "sparse FLOPs", unit: "FLOP", value: l.sparseFLOPs),
                .init(suite: "report", case: name, metric: "dense bytes", unit: "B", value: Double(l.denseBytes)),
                .init(suite: "report", case: name, metric: "CSR bytes", unit: "B", value: Double(l.sparseBytes)),
                .init(suite: "report", case: name, metric: "dense time", unit: "ms", value: l.denseMilliseconds),
                .init(suite: "report", case: name, metric: "best sparse time", unit: "ms", value: l.sparseMilliseconds),
                .init(suite: "report", case: name, metric: "speedup", unit: "x", value: l.speedup),
                .init(suite: "report", case: name, metric: "chosen: \(l.chosen)", unit: "", value: l.chosen != "dense" ? 1 : 0),
            ]
            // Every path measured (the dense algorithms of a convolution, the sparse twins).
            rows += l.paths.sorted { $0.key < $1.key }.map {
                .init(suite: "report", case: name, metric: "path \($0.key) time", unit: "ms", value: $0.value)
            }
        }
        let model = "whole model batch \(report.batchSize)"
        rows += [
            .init(
                suite: "report", case: model, metric: "sparsity", unit: "%",
                value: 100 * (1 - Double(report.nonzeros) / Double(max(report.parameters, 1)))),
            .init(suite: "report", case: model, metric: "FLOP sparsity", unit: "%", value: 100 * report.flopSparsity),
            .init(suite: "report", case: model, metric: "dense time", unit: "ms", value: report.denseMilliseconds),
            .init(suite: "report", case: model, metric: "chosen paths time", unit: "ms", value: report.chosenMilliseconds),
            .init(suite: "report", case: model, metric: "speedup", unit: "x", value: report.speedup),
        ]
        return rows
    }

    public static func write(_ report: ModelReport, to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: directory + "/sparsity-report.json")
        try AtomicFile.write(Data(try ReportFormat.md.render(rows(report)).utf8), to: directory + "/sparsity-report.md")
        try AtomicFile.write(Data(RunReport.sparsitySVG(report).utf8), to: directory + "/sparsity.svg")
    }

    /// `coppice report`: measures a run's model (`SparsityAnalysis.report`), writes the files beside
    /// it and returns the report.
    public static func measure(runDirectory: String, batchSize: Int, dataDirectory: String? = nil) throws -> ModelReport {
        let report = try SparsityAnalysis.report(runDirectory: runDirectory, batchSize: batchSize, dataDirectory: dataDirectory)
        try write(report, to: runDirectory)
        return report
    }
}
