import Foundation

/// Pictures of a run: training curves as SVG and a one-page HTML report embedding them.
public enum RunReport {
    /// Two panels side by side: loss and top-1 accuracy per epoch, train and test.
    public static func curvesSVG(_ history: [EpochRecord]) -> String {
        let epochs = history.map { Double($0.epoch) }
        let loss = LineChart(title: "Cross-entropy loss", x: epochs, series: [
            ("train", "#1f77b4", history.map(\.trainLoss)), ("test", "#d62728", history.map(\.testLoss)),
        ])
        let accuracy = LineChart(title: "Top-1 accuracy (%)", x: epochs, series: [
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
            String(format: "<tr><td>%d</td><td>%.4f</td><td>%.2f</td><td>%.4f</td><td>%.2f</td><td>%.4g</td><td>%.1f</td></tr>",
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

/// A minimal line chart in a 440×320 panel.
struct LineChart {
    var title: String
    var x: [Double]
    var series: [(name: String, color: String, values: [Double])]
    var xLabel = "epoch"
    /// Draws the legend above the plot (room for two or three series); off when the caller draws one.
    var legend = true

    func render(originX: Double) -> String {
        let (left, top, width, height) = (originX + 55, 30.0, 360.0, 240.0)
        let all = series.flatMap(\.values).filter(\.isFinite)
        var low = all.min() ?? 0, high = all.max() ?? 1
        if high - low < 1e-9 { low -= 0.5; high += 0.5 }
        let pad = (high - low) * 0.05
        low -= pad; high += pad
        let xLow = x.first ?? 0, xHigh = max(x.last ?? 1, xLow + 1)
        func px(_ v: Double) -> Double { left + (v - xLow) / (xHigh - xLow) * width }
        func py(_ v: Double) -> Double { top + height - (v - low) / (high - low) * height }
        var out = "<text x=\"\(left)\" y=\"18\" font-weight=\"bold\">\(title)</text>\n"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#999\"/>\n"
        for i in 0...4 {
            let v = low + (high - low) * Double(i) / 4
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", left - 5, py(v) + 4, v)
            out += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", left, left + width, py(v), py(v))
        }
        let labelEvery = max(1, x.count / 12)
        for (i, e) in x.enumerated() where i % labelEvery == 0 {
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", px(e), top + height + 16, e)
        }
        out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>\n", left + width / 2, top + height + 34, xLabel)
        for (index, s) in series.enumerated() {
            let points = zip(x, s.values).filter { $0.1.isFinite }.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            for p in points { out += "<circle cx=\"\(p.split(separator: ",")[0])\" cy=\"\(p.split(separator: ",")[1])\" r=\"3\" fill=\"\(s.color)\"/>\n" }
            guard legend else { continue }
            // Legend above the plot area, so it never covers a curve.
            let lx = left + width - 140 + Double(index) * 70, ly = 18.0
            out += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>", lx, lx + 20, ly - 4, ly - 4, s.color)
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\">%@</text>\n", lx + 25, ly, s.name)
        }
        return out
    }
}
