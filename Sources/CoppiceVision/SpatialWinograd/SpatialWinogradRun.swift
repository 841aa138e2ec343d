import CoppiceData
import CoppiceFormats
import CoppiceNN
import CoppiceRuns
import CoppiceSparsity
import CoppiceTensor
import Foundation

/// Runs a `SpatialWinogradRecipe`: trains the dense model (or starts from a trained run), then the
/// recipe's pruning stages, each retrained by a `Trainer` in its own subdirectory. Writes
/// `results.json`, `results.md`, `accuracy-vs-sparsity.svg`, `recipe.json`, and the final
/// `model.safetensors` with `config.json` (so `coppice report` can measure it).
public final class SpatialWinogradRun {
    public let configuration: TrainingConfiguration
    public let recipe: SpatialWinogradRecipe
    public let outputDirectory: String
    public private(set) var results: [WinogradStageResult] = []
    /// The model as it stands after the last stage.
    public private(set) var model: Sequential?
    private let datasets: (train: ImageDataset, test: ImageDataset)
    private let denseRun: String?
    private let progress: TrainingProgress

    /// `denseRun`: a finished `coppice train` directory of the same configuration to start from.
    public init(
        configuration: TrainingConfiguration, recipe: SpatialWinogradRecipe, outputDirectory: String,
        datasets: (train: ImageDataset, test: ImageDataset), denseRun: String? = nil,
        progress: TrainingProgress = .automatic()
    ) throws(TrainingError) {
        try configuration.validate()
        try recipe.validate()
        self.configuration = configuration
        self.recipe = recipe
        self.outputDirectory = outputDirectory
        self.datasets = datasets
        self.denseRun = denseRun
        self.progress = progress
    }

    @discardableResult
    public func run() throws(TrainingError) -> [WinogradStageResult] {
        let started = Date()
        let dense = try denseTrainer()
        let model = dense.model
        self.model = model
        if denseRun == nil { try dense.run() }
        try record(
            phase: "dense", stage: 0, target: 0, epochs: configuration.epochs, seconds: Date().timeIntervalSince(started),
            accuracy: dense.evaluateTestSet().accuracy, model: model)
        let transform = recipe.transform
        let convolutions = WinogradModel.convolutions(in: model)
        guard !convolutions.isEmpty else { throw .invalidConfiguration("\(configuration.model.rawValue) has no 3×3 stride-1 convolutions to prune") }
        let first = convolutions[0].name
        if denseRun != nil {
            // A starting model that was already pruned keeps its zeros: they become masks.
            for conv in convolutions where conv.weight.value.scalars.contains(0) {
                conv.weight.mask = withoutGradient { conv.weight.value.abs().sign() }
            }
        }
        for (index, stage) in recipe.spatialStages.enumerated() {
            for conv in WinogradModel.convolutions(in: model) {
                let target = conv.name == first ? recipe.firstLayerSparsity : stage.target
                do {
                    switch recipe.method {
                    case .spatialUnstructured:
                        conv.weight.mask = try MaskSelection.mask(
                            scores: conv.weight.value.abs(), previous: nil,
                            amount: .fraction(target), granularity: .element)
                    default:
                        conv.weight.mask = try WinogradPruning.structuredMask(
                            weight: conv.weight.value, winogradSparsity: target,
                            transform: transform
                        ).mask
                    }
                } catch {
                    throw .invalidConfiguration("\(conv.name): \(error)")
                }
                conv.weight.applyMask()
            }
            try pruneLinearLayers(model, to: recipe.linearTarget(spatialStage: index + 1, winogradStage: 0))
            try retrain(model, stage, name: "spatial-\(index + 1)", phase: "spatial", index: index + 1, weightDecay: nil)
        }
        if !recipe.winogradStages.isEmpty {
            // After step 1 the first layer's Winograd zeros are already exact in G W Gᵀ, and it stays fixed: it
            // stays spatial (a 1- or 3-channel convolution runs faster spatially than as sparse Winograd).
            let keepFirstSpatial = recipe.method == .spatialWinograd && !recipe.spatialStages.isEmpty
            WinogradModel.convert(model, transform: transform) { !(keepFirstSpatial && $0 == first) }
            let scale = recipe.gradientExponent > 0 ? WinogradPruning.gradientScale(transform, exponent: recipe.gradientExponent) : nil
            let importance = recipe.importance ? transform.importanceFactors : nil
            let layers = WinogradModel.convolutions(in: model)
            for layer in layers { (layer.layer as? WinogradConv2D)?.gradientScale = scale }
            for (index, stage) in recipe.winogradStages.enumerated() {
                for conv in layers {
                    if !conv.isWinograd { continue }
                    let target = conv.name == first ? recipe.firstLayerSparsity : stage.target
                    do {
                        conv.weight.mask = try WinogradPruning.winogradDomainMask(weight: conv.weight.value, sparsity: target, importance: importance)
                    } catch {
                        throw .invalidConfiguration("\(conv.name): \(error)")
                    }
                    conv.weight.applyMask()
                }
                try pruneLinearLayers(model, to: recipe.linearTarget(spatialStage: recipe.spatialStages.count, winogradStage: index + 1))
                try retrain(
                    model, stage, name: "winograd-\(index + 1)", phase: "winograd", index: index + 1,
                    weightDecay: recipe.winogradWeightDecay)
            }
        }
        try writeResults(model)
        return results
    }

    /// Element-wise magnitude masks on every Linear layer but the last (the classifier), at `target`.
    private func pruneLinearLayers(_ model: Sequential, to target: Double) throws(TrainingError) {
        let linears = model.layers.compactMap { $0 as? Linear }
        guard target > 0 else { return }
        for linear in linears.dropLast() {
            do {
                linear.weight.mask = try MaskSelection.mask(
                    scores: linear.weight.value.abs(), previous: nil, amount: .fraction(target), granularity: .element)
            } catch {
                throw .invalidConfiguration("Linear \(linear.weight.shape): \(error)")
            }
            linear.weight.applyMask()
        }
    }

    /// The dense model: trained here, or loaded from `denseRun`.
    private func denseTrainer() throws(TrainingError) -> Trainer {
        let directory = denseRun ?? outputDirectory + "/dense"
        var initial: [String: Tensor]?
        if let denseRun {
            do { initial = try SafetensorsFile(path: denseRun + "/model.safetensors").tensors() } catch {
                throw .checkpoint("--from \(denseRun): \(error)")
            }
        }
        return try Trainer(
            configuration: configuration, outputDirectory: directory, datasets: datasets, initialWeights: initial,
            progress: progress)
    }

    private func retrain(
        _ model: Sequential, _ stage: SpatialWinogradRecipe.Stage, name: String, phase: String, index: Int,
        weightDecay: Float?
    ) throws(TrainingError) {
        let started = Date()
        var stageConfiguration = configuration
        stageConfiguration.epochs = max(stage.epochs, 1)
        stageConfiguration.learningRate = stage.learningRate
        if let weightDecay { stageConfiguration.weightDecay = weightDecay }
        let trainer = try Trainer(
            configuration: stageConfiguration, outputDirectory: outputDirectory + "/" + name, datasets: datasets,
            model: model, progress: progress)
        if stage.epochs > 0 { try trainer.run() }
        try record(
            phase: phase, stage: index, target: stage.target, epochs: stage.epochs, seconds: Date().timeIntervalSince(started),
            accuracy: trainer.evaluateTestSet().accuracy, model: model)
    }

    private func record(
        phase: String, stage: Int, target: Double, epochs: Int, seconds: Double, accuracy: Double,
        model: Sequential
    ) throws(TrainingError) {
        let report = WinogradModel.sparsity(of: model, transform: recipe.transform)
        let weights = model.layers.compactMap { ($0 as? Linear)?.weight.value.scalars }.joined()
        let result = WinogradStageResult(
            phase: phase, stage: stage, target: target, testAccuracy: accuracy, winogradSparsity: report.overall,
            winogradSparsityAllLayers: report.allLayers, spatialSparsity: report.spatialSparsity,
            linearSparsity: Double(weights.filter { $0 == 0 }.count) / Double(max(weights.count, 1)),
            epochs: epochs, seconds: seconds, layers: report.layers)
        results.append(result)
        progress.note(
            String(
                format: "%@ %d: target %.2f, test accuracy %.2f%%, Winograd sparsity %.1f%% (all layers %.1f%%), Linear sparsity %.1f%%",
                phase, stage, target, 100 * accuracy, 100 * result.winogradSparsity, 100 * result.winogradSparsityAllLayers,
                100 * (result.linearSparsity ?? 0)))
        try writeJSON(results, "results.json")
    }

    private func writeResults(_ model: Sequential) throws(TrainingError) {
        try writeJSON(recipe, "recipe.json")
        try writeJSON(configuration, "config.json")
        do {
            try Safetensors.write(
                model.stateDict(), metadata: ["format": "pt", "model": configuration.model.rawValue],
                to: outputDirectory + "/model.safetensors")
            try AtomicFile.write(Data(Self.markdown(results).utf8), to: outputDirectory + "/results.md")
            try AtomicFile.write(Data(Self.accuracySVG([(recipe.method.rawValue, results)]).utf8), to: outputDirectory + "/accuracy-vs-sparsity.svg")
        } catch {
            throw .checkpoint(String(describing: error))
        }
    }

    private func writeJSON<T: Encodable>(_ value: T, _ name: String) throws(TrainingError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            try AtomicFile.write(try encoder.encode(value), to: outputDirectory + "/" + name)
        } catch {
            throw .checkpoint("cannot write \(outputDirectory)/\(name): \(error)")
        }
    }

    /// The stages as a Markdown table.
    public static func markdown(_ results: [WinogradStageResult]) -> String {
        var out =
            "| phase | stage | target | test accuracy | Winograd sparsity (pruned layers) | Winograd sparsity (all 3×3) | spatial sparsity | Linear sparsity | epochs |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", 100 * $0) } ?? "–" }
        for r in results {
            out += String(
                format: "| %@ | %d | %.2f | %.2f%% | %.1f%% | %.1f%% | %@ | %@ | %d |\n", r.phase, r.stage, r.target, 100 * r.testAccuracy,
                100 * r.winogradSparsity, 100 * r.winogradSparsityAllLayers, percent(r.spatialSparsity), percent(r.linearSparsity), r.epochs)
        }
        return out
    }

    /// Test accuracy against Winograd-domain sparsity, one line per run.
    public static func accuracySVG(_ runs: [(name: String, results: [WinogradStageResult])]) -> String {
        let all = runs.flatMap(\.results)
        let (width, height, left, bottom) = (720.0, 420.0, 70.0, 50.0)
        let accuracies = all.map { 100 * $0.testAccuracy }
        let low = floor((accuracies.min() ?? 0) - 0.5), high = ceil((accuracies.max() ?? 100) + 0.5)
        func x(_ s: Double) -> Double { left + s * (width - left - 20) }
        func y(_ a: Double) -> Double { height - bottom - (a - low) / max(high - low, 1e-9) * (height - bottom - 30) }
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="\(Int(width))" height="\(Int(height))" fill="white"/>
            <text x="\(Int(left))" y="18" font-weight="bold">Test accuracy vs Winograd-domain weight sparsity (pruned layers)</text>

            """
        for tick in stride(from: 0.0, through: 1.0, by: 0.1) {
            out += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", x(tick), x(tick), y(high), y(low))
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f%%</text>\n", x(tick), height - bottom + 16, 100 * tick)
        }
        for tick in stride(from: low, through: high, by: max(0.5, ((high - low) / 8).rounded(.up))) {
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f%%</text>\n", left - 6, y(tick) + 4, tick)
        }
        for (i, run) in runs.enumerated() {
            let color = colors[i % colors.count]
            let points = run.results.map { String(format: "%.1f,%.1f", x($0.winogradSparsity), y(100 * $0.testAccuracy)) }
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            for r in run.results {
                out += String(
                    format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>\n", x(r.winogradSparsity), y(100 * r.testAccuracy), color)
            }
            out += "<text x=\"\(Int(left) + 10)\" y=\"\(50 + 16 * i)\" fill=\"\(color)\">\(run.name)</text>\n"
        }
        out += "<text x=\"\(Int(width / 2))\" y=\"\(Int(height) - 12)\" text-anchor=\"middle\">Winograd-domain sparsity</text>\n"
        return out + "</svg>\n"
    }
}
