import ArgumentParser
import CoppiceBench
import CoppiceFormats
import CoppiceSparsity
import CoppiceTraining
import Foundation

extension PruningCriterion: ExpressibleByArgument {}
extension PruningRecipe.Scope: ExpressibleByArgument {}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train (or fine-tune --from a trained run) while pruning, then measure the pruned model layer by layer.",
        discussion: "The recipe is saved as recipe.json beside the results; pass it back with --recipe to repeat a run.")

    @OptionGroup var options: TrainingOptions
    @Option(help: "Output directory (default: runs/<model>-<dataset>-<method>-<sparsity>-seed<seed>).") var output: String?
    @Option(help: "A recipe.json to use instead of the pruning flags below.") var recipe: String?
    @Option(help: "Criterion: magnitude, random, taylor, movement.") var method: PruningCriterion = .magnitude
    @Option(help: "Final sparsity of the pruned weights, in [0, 1].") var sparsity = 0.9
    @Option(help: "unstructured, 2:4, 4:8 (any N:M), block:RxC, or slices:AXIS.") var pattern = "unstructured"
    @Option(help: "oneshot (at the first step), iterative (10 stages), gmp (Zhu & Gupta's cubic ramp).") var schedule = "gmp"
    @Option(help: "layer: every weight to the target; global: one magnitude threshold across weights.")
    var scope: PruningRecipe.Scope = .layer
    @Option(help: "Parameter name patterns to prune, comma-separated.") var parameters = "*.weight"
    @Option(help: "A trained run directory (with model.safetensors) to start from instead of a fresh initialization.")
    var from: String?
    @Option(name: .customLong("report-batch-size"), help: "Batch size at which the pruned model is measured.")
    var reportBatchSize = 1

    func validate() throws {
        guard (0...1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1], got \(sparsity)") }
        guard ["oneshot", "iterative", "gmp"].contains(schedule) else {
            throw ValidationError("--schedule must be oneshot, iterative or gmp, got \(schedule)")
        }
        guard reportBatchSize > 0 else { throw ValidationError("--report-batch-size must be positive") }
        do { _ = try Granularity(parsing: pattern) } catch { throw ValidationError(error.description) }
    }

    /// The recipe from --recipe, or from the flags with a schedule spread over the run's steps.
    func makeRecipe(stepsPerEpoch: Int) throws -> PruningRecipe {
        if let recipe { return try PruningRecipe.load(from: recipe) }
        let total = options.epochs * stepsPerEpoch
        let plan: SparsitySchedule
        switch schedule {
        case "oneshot": plan = .oneShot(sparsity: sparsity, step: 0)
        case "iterative": plan = .iterative(sparsity: sparsity, start: 0, stages: 10, frequency: max(1, total * 2 / 3 / 10))
        default:
            let frequency = max(1, total / 40)
            plan = .gradual(initial: 0, final: sparsity, start: 0, end: max(frequency, (total * 2 / 3) / frequency * frequency),
                            frequency: frequency)
        }
        let method = PruningMethod(criterion: method, granularity: try Granularity(parsing: pattern), norm: 1, seed: options.seed)
        return PruningRecipe(method: method, schedule: plan, parameters: parameters.split(separator: ",").map(String.init), scope: scope)
    }

    func run() throws {
        let c = options.configuration
        let directory = output ?? "runs/\(c.model.rawValue)-\(c.dataset.rawValue)-\(method.rawValue)-\(Int(sparsity * 100))-seed\(c.seed)"
        let initial = try from.map { try SafetensorsFile(path: $0 + "/model.safetensors").tensors() }
        let datasets = try c.dataset.load(directory: c.dataDirectory)
        let trainCount = c.trainLimit > 0 ? min(c.trainLimit, datasets.train.count) : datasets.train.count
        let recipe = try makeRecipe(stepsPerEpoch: (trainCount + c.batchSize - 1) / c.batchSize)
        let trainer = try Trainer(configuration: c, outputDirectory: directory, datasets: datasets, recipe: recipe,
                                  initialWeights: initial, progress: options.progress)
        let history = try trainer.run(resume: options.resume)
        var rows = options.results(history, name: "\(c.model.rawValue) \(c.dataset.rawValue) pruned")
        let sparsities = trainer.pruner?.sparsities() ?? []
        for (name, value) in sparsities {
            rows.append(BenchmarkResult(suite: "prune", case: name, metric: "sparsity", unit: "%", value: 100 * value))
        }
        try SparseStorage.write(trainer.model.stateDict(), metadata: ["format": "pt", "model": c.model.rawValue],
                                to: directory + "/model.sparse.safetensors")
        if case .slices = trainer.pruner?.recipe.method.granularity {
            // Structured pruning: also the physically smaller dense model (same outputs).
            let (compact, summary) = Compaction.compact(trainer.model)
            try Safetensors.write(compact.stateDict(), metadata: ["format": "pt", "model": c.model.rawValue, "compacted": "true"],
                                  to: directory + "/model.compact.safetensors")
            rows.append(BenchmarkResult(suite: "prune", case: "compacted model", metric: "parameters before", unit: "count",
                                        value: Double(summary.parametersBefore)))
            rows.append(BenchmarkResult(suite: "prune", case: "compacted model", metric: "parameters after", unit: "count",
                                        value: Double(summary.parametersAfter)))
        }
        let report = try SparsityAnalysis.report(runDirectory: directory, batchSize: reportBatchSize, dataDirectory: c.dataDirectory)
        try ReportWriter.write(report, to: directory)
        rows += ReportWriter.rows(report)
        print(try options.format.render(rows))
        FileHandle.standardError.write(Data("results in \(directory)/ (recipe.json, model.safetensors, model.sparse.safetensors, sparsity-report.md, sparsity.svg)\n".utf8))
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per layer: sparsity, parameters, FLOPs, bytes, measured time dense vs sparse, speedup and the chosen path.")

    @Argument(help: "A run directory written by `coppice train` or `coppice prune`.") var runDirectory: String
    @Option(name: .customLong("batch-size"), help: "Batch size to measure at (real test images).") var batchSize = 1
    @Option(name: .customLong("data-dir"), help: "Directory with the dataset's files (default: as when trained).")
    var dataDirectory: String?
    @Option(help: "Output format: md, csv or json.") var format: ReportFormat = .md

    func run() throws {
        let report = try SparsityAnalysis.report(runDirectory: runDirectory, batchSize: batchSize, dataDirectory: dataDirectory)
        try ReportWriter.write(report, to: runDirectory)
        print(try format.render(ReportWriter.rows(report)))
        for warning in report.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
    }
}

/// The sparsity report as result rows, and its files beside a run.
enum ReportWriter {
    static func rows(_ report: ModelReport) -> [BenchmarkResult] {
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
        }
        let model = "whole model batch \(report.batchSize)"
        rows += [
            .init(suite: "report", case: model, metric: "sparsity", unit: "%", value: 100 * (1 - Double(report.nonzeros) / Double(max(report.parameters, 1)))),
            .init(suite: "report", case: model, metric: "dense time", unit: "ms", value: report.denseMilliseconds),
            .init(suite: "report", case: model, metric: "chosen paths time", unit: "ms", value: report.chosenMilliseconds),
            .init(suite: "report", case: model, metric: "speedup", unit: "x", value: report.speedup),
        ]
        return rows
    }

    static func write(_ report: ModelReport, to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: directory + "/sparsity-report.json")
        try AtomicFile.write(Data(try ReportFormat.md.render(rows(report)).utf8), to: directory + "/sparsity-report.md")
        try AtomicFile.write(Data(RunReport.sparsitySVG(report).utf8), to: directory + "/sparsity.svg")
    }
}
