import CoppiceSparsity
import Foundation

/// The HTML page of a spatial-Winograd run: the stages, the accuracy-vs-sparsity chart, per-layer
/// Winograd sparsity, and the measured inference speed of the pruned model.
public enum SpatialWinogradReport {
    public static func html(
        results: [WinogradStageResult], recipe: SpatialWinogradRecipe, configuration c: TrainingConfiguration,
        speed: ModelReport
    ) -> String {
        let dense = results.first { $0.phase == "dense" }
        let last = results.last
        let stages = results.map { r in
            String(
                format: "<tr><td>%@</td><td>%d</td><td>%.2f</td><td>%.2f</td><td>%.1f</td><td>%.1f</td><td>%@</td></tr>", r.phase, r.stage,
                r.target, 100 * r.testAccuracy, 100 * r.winogradSparsity, 100 * r.winogradSparsityAllLayers,
                r.spatialSparsity.map { String(format: "%.1f", 100 * $0) } ?? "–")
        }.joined(separator: "\n")
        let layers = (last?.layers ?? []).map { l in
            String(format: "<tr><td>%@</td><td>%d</td><td>%d</td><td>%.1f</td></tr>", l.name, l.zeros, l.count, 100 * l.sparsity)
        }.joined(separator: "\n")
        let paths = speed.layers.map { l in
            let tried = l.paths.sorted { $0.key < $1.key }.map { String(format: "%@ %.3f ms", $0.key, $0.value) }.joined(separator: ", ")
            return String(
                format: "<tr><td>%@</td><td>%@</td><td>%.1f</td><td>%@</td><td>%@</td><td>%.2f×</td></tr>", l.name, l.kind,
                100 * l.sparsity, tried, l.chosen, l.speedup)
        }.joined(separator: "\n")
        let headline = String(
            format: "%.2f%% test accuracy (dense %.2f%%) at %.1f%% Winograd-domain sparsity", 100 * (last?.testAccuracy ?? 0),
            100 * (dense?.testAccuracy ?? 0), 100 * (last?.winogradSparsity ?? 0))
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Coppice spatial-Winograd pruning: \(c.model.rawValue) on \(c.dataset.rawValue)</title>
            <style>body{font-family:sans-serif;max-width:980px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}
            td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}</style></head><body>
            <h1>\(c.model.rawValue) on \(c.dataset.rawValue): \(headline)</h1>
            <p>Method \(recipe.method.rawValue), F(\(recipe.tile)×\(recipe.tile),3×3), first layer fixed at \(recipe.firstLayerSparsity),
            importance factors \(recipe.importance ? "on" : "off"), gradient scale F^(−\(recipe.gradientExponent)).
            Dense training: \(c.epochs) epochs, batch \(c.batchSize), lr \(c.learningRate), seed \(c.seed).</p>
            \(SpatialWinogradRun.accuracySVG([(recipe.method.rawValue, results)]))
            <h2>Stages</h2>
            <table><tr><th>phase</th><th>stage</th><th>target</th><th>test acc %</th><th>Winograd sparsity % (pruned layers)</th>
            <th>Winograd sparsity % (all 3×3)</th><th>spatial sparsity %</th></tr>
            \(stages)
            </table>
            <h2>Winograd-domain sparsity per layer (final)</h2>
            <table><tr><th>layer</th><th>zeros</th><th>elements</th><th>sparsity %</th></tr>
            \(layers)
            </table>
            <h2>Inference at batch \(speed.batchSize): \(String(format: "%.3f ms dense, %.3f ms with the chosen paths (%.2f×)", speed.denseMilliseconds, speed.chosenMilliseconds, speed.speedup))</h2>
            <table><tr><th>layer</th><th>kind</th><th>sparsity %</th><th>paths measured</th><th>chosen</th><th>speedup</th></tr>
            \(paths)
            </table>
            \(RunReport.sparsitySVG(speed))
            </body></html>
            """
    }
}
