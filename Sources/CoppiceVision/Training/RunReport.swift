import CoppiceRuns
import Foundation

/// Pictures of a run: training curves as SVG and a one-page HTML report embedding them.
public enum RunReport {
    /// Two panels side by side: loss and top-1 accuracy per epoch, train and test.
    public static func curvesSVG(_ history: [EpochRecord]) -> String {
        let epochs = history.map { Double($0.epoch) }
        let loss = LineChart(
            title: "Cross-entropy loss", x: epochs,
            series: [
                ("train", "#1f77b4", history.map(\.trainLoss)), ("test", "#d62728", history.map(\.testLoss)),
            ])
        let accuracy = LineChart(
            title: "Top-1 accuracy (%)", x: epochs,
            series: [
                ("train", "#1f77b4", history.map { 100 * $0.trainAccuracy }), ("test", "#d62728", history.map { 100 * $0.testAccuracy }),
            ])
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="880" height="320" font-family="sans-serif" font-size="12">
            <rect width="880" height="320" fill="white"/>
            \(loss.render(originX: 0))
            \(accuracy.render(originX: 440))
            </svg>
            """
    }

    public static func html(_ summary: RunSummary) -> String {
        let c = summary.configuration
        let rows = summary.history.map { r in
            String(
                format: "<tr><td>%d</td><td>%.4f</td><td>%.2f</td><td>%.4f</td><td>%.2f</td><td>%.4g</td><td>%.1f</td></tr>",
                r.epoch, r.trainLoss, 100 * r.trainAccuracy, r.testLoss, 100 * r.testAccuracy, r.learningRate, r.seconds)
        }.joined(separator: "\n")
        let final = summary.final.map { String(format: "%.2f%%", 100 * $0.testAccuracy) } ?? "–"
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Coppice run: \(c.model.rawValue) on \(c.dataset.rawValue)</title>
            <style>body{font-family:sans-serif;max-width:900px;margin:2em auto}table{border-collapse:collapse}
            td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}</style></head><body>
            <h1>\(c.model.rawValue) on \(c.dataset.rawValue): \(final) test accuracy</h1>
            <p>\(c.epochs) epochs, batch \(c.batchSize), SGD lr \(c.learningRate) (\(c.schedule.rawValue)), momentum \(c.momentum),
            weight decay \(c.weightDecay), seed \(c.seed); \(summary.parameters) parameters;
            \(String(format: "%.1f", summary.meanEpochSeconds)) s per epoch.</p>
            \(curvesSVG(summary.history))
            <table><tr><th>epoch</th><th>train loss</th><th>train acc %</th><th>test loss</th><th>test acc %</th><th>lr</th><th>s</th></tr>
            \(rows)
            </table></body></html>
            """
    }
}
