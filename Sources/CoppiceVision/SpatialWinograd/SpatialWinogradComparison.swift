import CoppiceRuns
import Foundation

/// Several spatial-Winograd runs (the method and its baselines) side by side: for each, the highest
/// Winograd-domain sparsity whose test accuracy stays within a budget of the dense model's, as a
/// Markdown table, and all accuracy-vs-sparsity curves in one SVG.
public enum SpatialWinogradComparison {
    public struct Run {
        public var name: String
        public var recipe: SpatialWinogradRecipe
        public var results: [WinogradStageResult]
    }

    /// Reads `results.json` and `recipe.json` of a `coppice spatial-winograd` output directory.
    public static func load(_ directory: String) throws(TrainingError) -> Run {
        guard let data = FileManager.default.contents(atPath: directory + "/results.json"),
            let results = try? JSONDecoder().decode([WinogradStageResult].self, from: data), !results.isEmpty
        else {
            throw .checkpoint("\(directory)/results.json: missing or not spatial-Winograd results")
        }
        let recipe = try SpatialWinogradRecipe.load(from: directory + "/recipe.json")
        let lr = (recipe.winogradStages.first ?? recipe.spatialStages.first).map { String(format: " lr %g", $0.learningRate) } ?? ""
        var name = recipe.method.rawValue
        if recipe.method != .spatialUnstructured {
            name += recipe.importance ? " (F" : " (no F"
            name += recipe.gradientExponent > 0 ? String(format: ", grad F^-%g", recipe.gradientExponent) : ", unscaled grad"
            name += lr + ")"
        }
        return Run(name: name, recipe: recipe, results: results)
    }

    /// The stage with the highest Winograd sparsity whose accuracy is at least `dense − budget`.
    public static func best(_ run: Run, dense: Double, budget: Double) -> WinogradStageResult? {
        run.results.filter { $0.testAccuracy >= dense - budget - 1e-12 }.max { $0.winogradSparsity < $1.winogradSparsity }
    }

    public static func markdown(_ runs: [Run], budget: Double) -> String {
        let dense = runs.compactMap { $0.results.first { $0.phase == "dense" }?.testAccuracy }.first ?? 0
        var out = String(
            format: "Dense test accuracy %.2f%%; accuracy budget %.1f points (≥ %.2f%%).\n\n", 100 * dense, 100 * budget,
            100 * (dense - budget))
        out += "| run | best Winograd sparsity within budget | its test accuracy | stage | final stage: sparsity / accuracy |\n"
        out += "|---|---:|---:|---|---:|\n"
        for run in runs {
            let b = best(run, dense: dense, budget: budget)
            let last = run.results.last!
            out += String(
                format: "| %@ | %@ | %@ | %@ | %.1f%% / %.2f%% |\n", run.name,
                b.map { String(format: "%.1f%%", 100 * $0.winogradSparsity) } ?? "–",
                b.map { String(format: "%.2f%%", 100 * $0.testAccuracy) } ?? "–",
                b.map { "\($0.phase) \($0.stage)" } ?? "–", 100 * last.winogradSparsity, 100 * last.testAccuracy)
        }
        for run in runs {
            out += "\n### \(run.name)\n\n" + SpatialWinogradRun.markdown(run.results)
        }
        return out
    }

    public static func svg(_ runs: [Run]) -> String {
        SpatialWinogradRun.accuracySVG(runs.map { ($0.name, $0.results) })
    }
}
