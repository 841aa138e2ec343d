import ArgumentParser
import CoppiceVision

struct SpatialWinogradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spatial-winograd",
        abstract:
            "Spatial-Winograd pruning (Yu, Park & Naumov 2019): train dense, prune support sets in the spatial domain, then prune and retrain in the Winograd domain; measure the sparse Winograd speedup.",
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
    @Option(
        name: .customLong("linear-sparsity"),
        help: "Final sparsity of the Linear layers but the classifier, pruned by magnitude over the first step's stages (0: dense).")
    var linearSparsity = SpatialWinogradRecipe.fashionMNIST.linearSparsity ?? 0
    @Option(name: .customLong("report-batch-sizes"), help: "Batch sizes at which the pruned model is measured, comma-separated.")
    var reportBatchSizes = "1,32"

    func validate() throws {
        guard tile == 2 || tile == 4 else { throw ValidationError("--tile must be 2 or 4, got \(tile)") }
        _ = try batchSizes()
        guard (0..<1).contains(linearSparsity) else { throw ValidationError("--linear-sparsity must be in [0, 1), got \(linearSparsity)") }
        _ = try targets(spatialTargets, "--spatial-targets")
        _ = try targets(winogradTargets, "--winograd-targets")
    }

    private func batchSizes() throws -> [Int] {
        let sizes = reportBatchSizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--report-batch-sizes must be comma-separated positive integers, got '\(reportBatchSizes)'")
        }
        return sizes.map { $0! }
    }

    private func targets(_ text: String?, _ flag: String) throws -> [Double]? {
        guard let text else { return nil }
        guard let values = numberList(text), values.allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("\(flag) must be comma-separated numbers in [0, 1], got '\(text)'")
        }
        return values
    }

    func run() throws {
        let recipe =
            try recipe.map { try SpatialWinogradRecipe.load(from: $0) }
            ?? SpatialWinogradRecipe(
                method: method, tile: tile, spatialTargets: try targets(spatialTargets, ""),
                winogradTargets: try targets(winogradTargets, ""), stageEpochs: stageEpochs,
                spatialLearningRate: spatialLearningRate, winogradLearningRate: winogradLearningRate,
                firstLayerSparsity: firstLayerSparsity, gradientExponent: gradientExponent, importance: !noImportance,
                linearSparsity: linearSparsity)
        let run = try SpatialWinogradRun.make(
            configuration: options.configuration(defaultModel: .vggFMNIST), recipe: recipe,
            outputDirectory: output, denseRun: from, progress: options.progress)
        print(try options.format.render(run.runAndMeasure(reportBatchSizes: try batchSizes())))
        note("results in \(run.outputDirectory)/ (report.html, results.md, accuracy-vs-sparsity.svg, sparsity-report.md)")
    }
}
