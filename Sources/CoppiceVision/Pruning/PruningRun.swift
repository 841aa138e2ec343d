import CoppiceDistributed
import CoppiceFormats
import CoppiceRuns
import CoppiceSparsity
import Foundation

/// `coppice prune` as a library call: trains (or fine-tunes a trained run) while pruning, writes the
/// sparse and (for structured pruning) compacted weights, then measures the pruned model layer by layer.
public struct PruningRun {
    public var configuration: TrainingConfiguration
    /// A saved recipe to use instead of the options below.
    public var recipeFile: String?
    public var criterion: PruningCriterion = .magnitude
    /// Final sparsity of the pruned weights, in [0, 1].
    public var sparsity = 0.9
    public var granularity: Granularity = .element
    public var schedule: PruningScheduleKind = .gmp
    public var scope: PruningRecipe.Scope = .layer
    /// Parameter name patterns to prune.
    public var parameters = ["*.weight"]
    /// A trained run directory (with model.safetensors) to start from instead of a fresh initialization.
    public var from: String?
    /// The batch size at which the pruned model is measured.
    public var reportBatchSize = 1
    public var outputDirectory: String

    /// `outputDirectory` defaults to runs/<model>-<dataset>-<criterion>-<sparsity %>-seed<seed>.
    public init(
        configuration: TrainingConfiguration, criterion: PruningCriterion = .magnitude, sparsity: Double = 0.9,
        outputDirectory: String? = nil
    ) {
        self.configuration = configuration
        self.criterion = criterion
        self.sparsity = sparsity
        self.outputDirectory =
            outputDirectory
            ?? "runs/\(configuration.model.rawValue)-\(configuration.dataset.rawValue)-\(criterion.rawValue)-\(Int(sparsity * 100))-seed\(configuration.seed)"
    }

    /// The recipe from `recipeFile`, or from the options with the schedule spread over the run's steps.
    public func recipe(stepsPerEpoch: Int) throws -> PruningRecipe {
        if let recipeFile { return try PruningRecipe.load(from: recipeFile) }
        let plan = schedule.schedule(sparsity: sparsity, totalSteps: configuration.epochs * stepsPerEpoch)
        let method = PruningMethod(criterion: criterion, granularity: granularity, norm: 1, seed: configuration.seed)
        return PruningRecipe(method: method, schedule: plan, parameters: parameters, scope: scope)
    }

    /// Trains while pruning and measures; returns the result rows (training, per-weight sparsity,
    /// compaction, the per-layer report). `resume` continues from the checkpoint in the output directory.
    public func run(resume: Bool = false, progress: TrainingProgress = .automatic()) throws -> [BenchmarkResult] {
        let c = configuration, directory = outputDirectory
        let initial = try from.map { try SafetensorsFile(path: $0 + "/model.safetensors").tensors() }
        let datasets = try c.dataset.load(directory: c.dataDirectory)
        let trainCount = c.trainLimit > 0 ? min(c.trainLimit, datasets.train.count) : datasets.train.count
        let recipe = try recipe(stepsPerEpoch: (trainCount + c.batchSize - 1) / c.batchSize)
        // Under mpirun with several ranks: data-parallel; every rank computes the same masks, rank 0 measures and writes.
        let world = try Communicator.world()
        let trainer = try Trainer(
            configuration: c, outputDirectory: directory, datasets: datasets, recipe: recipe,
            initialWeights: initial, progress: world.isRoot ? progress : TrainingProgress(style: .silent),
            parallel: world.size > 1 ? DataParallel(world) : nil)
        let history = try trainer.run(resume: resume)
        guard world.isRoot else { return [] }
        var rows = EpochRecord.resultRows(history, name: "\(c.model.rawValue) \(c.dataset.rawValue) pruned")
        for (name, value) in trainer.pruner?.sparsities() ?? [] {
            rows.append(BenchmarkResult(suite: "prune", case: name, metric: "sparsity", unit: "%", value: 100 * value))
        }
        try SparseStorage.write(
            trainer.model.stateDict(), metadata: ["format": "pt", "model": c.model.rawValue],
            to: directory + "/model.sparse.safetensors")
        if case .slices = trainer.pruner?.recipe.method.granularity {
            // Structured pruning: also the physically smaller dense model (same outputs).
            let (compact, summary) = Compaction.compact(trainer.model)
            try Safetensors.write(
                compact.stateDict(), metadata: ["format": "pt", "model": c.model.rawValue, "compacted": "true"],
                to: directory + "/model.compact.safetensors")
            rows.append(
                BenchmarkResult(
                    suite: "prune", case: "compacted model", metric: "parameters before", unit: "count",
                    value: Double(summary.parametersBefore)))
            rows.append(
                BenchmarkResult(
                    suite: "prune", case: "compacted model", metric: "parameters after", unit: "count",
                    value: Double(summary.parametersAfter)))
        }
        let report = try SparsityReportFiles.measure(runDirectory: directory, batchSize: reportBatchSize, dataDirectory: c.dataDirectory)
        return rows + SparsityReportFiles.rows(report)
    }
}
