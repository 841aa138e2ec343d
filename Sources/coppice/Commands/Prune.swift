import ArgumentParser
import CoppiceDistributed
import CoppiceSparsity
import CoppiceVision

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train (or fine-tune --from a trained run) while pruning, then measure the pruned model layer by layer.",
        discussion: """
            The recipe is saved as recipe.json beside the results; pass it back with --recipe to repeat a run. Data-parallel \
            under mpirun (mpirun -np 2 .build/release/coppice prune ...): every rank computes the same masks; rank 0 writes.
            """)

    @OptionGroup var options: TrainingOptions
    @Option(help: "Output directory (default: runs/<model>-<dataset>-<method>-<sparsity>-seed<seed>).") var output: String?
    @Option(help: "A recipe.json to use instead of the pruning flags below.") var recipe: String?
    @Option(help: "Criterion.") var method: PruningCriterion = .magnitude
    @Option(help: "Final sparsity of the pruned weights, in [0, 1].") var sparsity = 0.9
    @Option(help: "unstructured, 2:4, 4:8 (any N:M), block:RxC, or slices:AXIS.") var pattern = "unstructured"
    @Option(help: "oneshot (at the first step), iterative (10 stages), gmp (Zhu & Gupta's cubic ramp).") var schedule: PruningScheduleKind = .gmp
    @Option(help: "layer: every weight to the target; global: one magnitude threshold across weights.")
    var scope: PruningRecipe.Scope = .layer
    @Option(help: "Parameter name patterns to prune, comma-separated.") var parameters = "*.weight"
    @Option(help: "A trained run directory (with model.safetensors) to start from instead of a fresh initialization.")
    var from: String?
    @Option(name: .customLong("report-batch-size"), help: "Batch size at which the pruned model is measured.")
    var reportBatchSize = 1

    func validate() throws {
        // 1 would remove every weight: no model is left to measure.
        guard (0..<1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1), got \(sparsity)") }
        guard reportBatchSize > 0 else { throw ValidationError("--report-batch-size must be positive") }
        do { _ = try Granularity(parsing: pattern) } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        var run = PruningRun(configuration: options.configuration, criterion: method, sparsity: sparsity, outputDirectory: output)
        (run.recipeFile, run.granularity, run.schedule, run.scope) = (recipe, try Granularity(parsing: pattern), schedule, scope)
        (run.parameters, run.from, run.reportBatchSize) = (parameters.split(separator: ",").map(String.init), from, reportBatchSize)
        let rows = try run.run(resume: options.resume, progress: options.progress)
        guard try Communicator.world().isRoot else { return }
        print(try options.format.render(rows))
        note("results in \(run.outputDirectory)/ (recipe.json, model.safetensors, model.sparse.safetensors, sparsity-report.md, sparsity.svg)")
    }
}
