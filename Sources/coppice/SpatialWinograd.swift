import ArgumentParser
import CoppiceBench
import CoppiceFormats
import CoppiceSparsity
import CoppiceTraining
import Foundation

extension SpatialWinogradRecipe.Method: ExpressibleByArgument {}

struct SpatialWinogradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spatial-winograd",
        abstract: "Spatial-Winograd pruning (Yu, Park & Naumov 2019): train dense, prune support sets in the spatial domain, then prune and retrain in the Winograd domain; measure the sparse Winograd speedup.",
        discussion: """
        Defaults are the embedded Fashion-MNIST recipe on vgg-fmnist. Stage lists are comma-separated \
        per-layer Winograd-domain targets (spatial targets for --method spatial-unstructured). \
        Writes results.json/md, accuracy-vs-sparsity.svg, recipe.json, model.safetensors, \
        sparsity-report.md and report.html into --output.
        """)

    @OptionGroup var options: TrainingOptions
    @Option(help: "Output directory (default: runs/<model>-<dataset>-<method>-seed<seed>).") var output: String?
    @Option(help: "A recipe.json to use instead of the flags below.") var recipe: String?
    @Option(help: "spatial-winograd, winograd-direct (Li et al. 2017) or spatial-unstructured.")
    var method: SpatialWinogradRecipe.Method = .spatialWinograd
    @Option(help: "Output tile m of F(m×m,3×3): 4 or 2.") var tile = 4
    @Option(name: .customLong("spatial-targets"), help: "Step-1 stage targets (default: the embedded recipe's).") var spatialTargets: String?
    @Option(name: .customLong("winograd-targets"), help: "Step-2 stage targets (default: the embedded recipe's).") var winogradTargets: String?
    @Option(name: .customLong("stage-epochs"), help: "Retraining epochs per stage.") var stageEpochs = 1
    @Option(name: .customLong("spatial-lr"), help: "Retraining learning rate of spatial stages.") var spatialLearningRate: Float = 0.01
    @Option(name: .customLong("winograd-lr"), help: "Retraining learning rate of Winograd stages.") var winogradLearningRate: Float = 2e-5
    @Option(name: .customLong("first-layer-sparsity"), help: "Fixed sparsity of the first convolution.") var firstLayerSparsity = 0.2
    @Option(name: .customLong("gradient-exponent"), help: "∂L/∂Q is scaled by F^(-exponent); 0 turns scaling off.")
    var gradientExponent = 1.5
    @Flag(name: .customLong("no-importance"), help: "Rank Q by |Q| instead of |Q|·F.") var noImportance = false
    @Option(help: "A trained `coppice train` run directory of the same model to start from (skips dense training).") var from: String?
    @Option(name: .customLong("report-batch-size"), help: "Batch size at which the pruned model is measured.") var reportBatchSize = 1

    func validate() throws {
        guard tile == 2 || tile == 4 else { throw ValidationError("--tile must be 2 or 4, got \(tile)") }
        guard reportBatchSize > 0 else { throw ValidationError("--report-batch-size must be positive") }
        _ = try targets(spatialTargets, "--spatial-targets")
        _ = try targets(winogradTargets, "--winograd-targets")
    }

    private func targets(_ text: String?, _ flag: String) throws -> [Double]? {
        guard let text else { return nil }
        guard let values = numberList(text), values.allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("\(flag) must be comma-separated numbers in [0, 1], got '\(text)'")
        }
        return values
    }

    func makeRecipe() throws -> SpatialWinogradRecipe {
        if let recipe { return try SpatialWinogradRecipe.load(from: recipe) }
        var r = SpatialWinogradRecipe()
        r.method = method
        r.tile = tile
        r.firstLayerSparsity = firstLayerSparsity
        r.gradientExponent = gradientExponent
        r.importance = !noImportance
        let defaults = SpatialWinogradRecipe.fashionMNIST
        let spatial = try targets(spatialTargets, "") ?? (method == .winogradDirect ? [] : defaults.spatialStages.map(\.target))
        let winograd = try targets(winogradTargets, "") ?? (method == .spatialUnstructured ? [] : defaults.winogradStages.map(\.target))
        r.spatialStages = spatial.map { .init(target: $0, epochs: stageEpochs, learningRate: spatialLearningRate) }
        r.winogradStages = winograd.map { .init(target: $0, epochs: stageEpochs, learningRate: winogradLearningRate) }
        return r
    }

    func run() throws {
        let c = options.configuration(defaultModel: .vggFMNIST)
        let recipe = try makeRecipe()
        let directory = output ?? "runs/\(c.model.rawValue)-\(c.dataset.rawValue)-\(recipe.method.rawValue)-seed\(c.seed)"
        let datasets = try c.dataset.load(directory: c.dataDirectory)
        let run = try SpatialWinogradRun(configuration: c, recipe: recipe, outputDirectory: directory, datasets: datasets,
                                         denseRun: from, progress: options.progress)
        let results = try run.run()
        let report = try SparsityAnalysis.report(runDirectory: directory, batchSize: reportBatchSize, dataDirectory: c.dataDirectory)
        try ReportWriter.write(report, to: directory)
        try AtomicFile.write(Data(SpatialWinogradReport.html(results: results, recipe: recipe, configuration: c, speed: report).utf8),
                             to: directory + "/report.html")
        var rows: [BenchmarkResult] = []
        for r in results {
            let name = "\(r.phase) \(r.stage) (target \(String(format: "%.2f", r.target)))"
            rows.append(BenchmarkResult(suite: "spatial-winograd", case: name, metric: "test accuracy", unit: "%", value: 100 * r.testAccuracy))
            rows.append(BenchmarkResult(suite: "spatial-winograd", case: name, metric: "Winograd sparsity", unit: "%", value: 100 * r.winogradSparsity))
        }
        rows += ReportWriter.rows(report).filter { $0.case.hasPrefix("whole model") }
        print(try options.format.render(rows))
        FileHandle.standardError.write(Data("results in \(directory)/ (report.html, results.md, accuracy-vs-sparsity.svg, sparsity-report.md)\n".utf8))
    }
}

struct WinogradCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "winograd-compare",
        abstract: "Compare `coppice spatial-winograd` runs (the method and its baselines): best Winograd sparsity within an accuracy budget of dense, and one accuracy-vs-sparsity chart.")

    @Argument(help: "Output directories of `coppice spatial-winograd`.") var runs: [String]
    @Option(help: "Accuracy budget below the dense model, in percentage points.") var budget = 0.5
    @Option(help: "Write the Markdown table here (default: print it).") var markdown: String?
    @Option(help: "Write the SVG chart here.") var svg: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
        guard budget >= 0 else { throw ValidationError("--budget must be non-negative, got \(budget)") }
    }

    func run() throws {
        let loaded = try runs.map { try SpatialWinogradComparison.load($0) }
        let table = SpatialWinogradComparison.markdown(loaded, budget: budget / 100)
        if let markdown { try AtomicFile.write(Data(table.utf8), to: markdown) } else { print(table) }
        if let svg { try AtomicFile.write(Data(SpatialWinogradComparison.svg(loaded).utf8), to: svg) }
    }
}
