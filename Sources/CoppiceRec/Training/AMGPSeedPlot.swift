import Foundation

extension AMGPSeedReport {
    static let colors = ["dense": "#7f7f7f", "AMGP": "#1f77b4", "prune-only": "#d62728", "small dense": "#2ca02c"]

    /// Two panels: each method's paired ΔNE by seed (dots) with the mean and its 95% interval (bar),
    /// against the 0 and +0.1% lines; and every run's NE against its training FLOPs (% of dense's).
    public func svg(title: String) -> String {
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"360\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"960\" height=\"360\" fill=\"white\"/>\n<text x=\"10\" y=\"352\" fill=\"#555\">\(title)</text>\n"
        out += deltaPanel(left: 70, top: 40, width: 360, height: 250)
        out += frontierPanel(left: 560, top: 40, width: 360, height: 250)
        return out + "</svg>\n"
    }

    private func axis(_ label: String, left: Double, top: Double, width: Double, height: Double, low: Double, high: Double, format: String) -> String
    {
        var out = "<text x=\"\(left)\" y=\"\(top - 14)\" font-weight=\"bold\">\(label)</text>\n"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#999\"/>\n"
        for i in 0...4 {
            let v = low + (high - low) * Double(i) / 4, y = top + height - Double(i) / 4 * height
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">\(format)</text>\n", left - 5, y + 4, v)
            out += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", left, left + width, y, y)
        }
        return out
    }

    private func range(_ values: [Double]) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if high - low < 1e-9 { (low, high) = (low - 0.5, high + 0.5) }
        let pad = (high - low) * 0.08
        return (low - pad, high + pad)
    }

    private func deltaPanel(left: Double, top: Double, width: Double, height: Double) -> String {
        let perSeed = methods.map { m in
            runs.map { run in AMGPComparison.percentChange(run.rows.first { $0.name == m.name }?.ne, run.rows.first { $0.name == "dense" }?.ne) }
        }
        let (low, high) = range(perSeed.flatMap { $0 } + methods.flatMap { [$0.deltaNE.low, $0.deltaNE.high] } + [0, Self.targetNE])
        func y(_ v: Double) -> Double { top + height - (v - low) / (high - low) * height }
        var out = axis(
            "test NE vs dense, paired by seed (%)", left: left, top: top, width: width, height: height, low: low, high: high, format: "%+.2f")
        out += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left, left + width, y(0), y(0))
        out += String(
            format:
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" stroke-dasharray=\"4,3\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">+0.1%%</text>\n",
            left, left + width, y(Self.targetNE), y(Self.targetNE), left + width + 3, y(Self.targetNE) + 3)
        for (i, m) in methods.enumerated() {
            let x = left + width * (Double(i) + 0.5) / Double(max(methods.count, 1)), color = Self.colors[m.name] ?? "#000"
            for (k, v) in perSeed[i].enumerated() where v.isFinite {
                out += String(
                    format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\" opacity=\"0.45\"/>", x - 24 + Double(k % 8) * 3, y(v), color)
            }
            if m.deltaNE.low.isFinite {
                out += String(
                    format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>", x + 12, x + 12,
                    y(m.deltaNE.low),
                    y(m.deltaNE.high), color)
                for end in [m.deltaNE.low, m.deltaNE.high] {
                    out += String(
                        format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>", x + 7, x + 17, y(end),
                        y(end), color)
                }
            }
            out += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%@\"/>", x + 8, y(m.deltaNE.mean) - 4, color)
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>\n", x, top + height + 16, m.name)
        }
        return out
    }

    private func frontierPanel(left: Double, top: Double, width: Double, height: Double) -> String {
        var points: [(name: String, flops: Double, ne: Double)] = []
        for run in runs {
            guard let dense = run.rows.first(where: { $0.name == "dense" }) else { continue }
            for row in run.rows { if let ne = row.ne { points.append((row.name, 100 * row.trainingFLOPs / dense.trainingFLOPs, ne)) } }
        }
        let (low, high) = range(points.map(\.ne)), (xLow, xHigh) = (0.0, 110.0)
        func x(_ v: Double) -> Double { left + (v - xLow) / (xHigh - xLow) * width }
        func y(_ v: Double) -> Double { top + height - (v - low) / (high - low) * height }
        var out = axis(
            "test NE against training FLOPs (% of dense's)", left: left, top: top, width: width, height: height, low: low, high: high, format: "%.3f")
        for v in stride(from: 0.0, through: 100, by: 25) {
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x(v), top + height + 16, v)
        }
        for p in points {
            out += String(
                format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\" opacity=\"0.6\"/>\n", x(p.flops), y(p.ne), Self.colors[p.name] ?? "#000")
        }
        for (i, name) in (["dense"] + methods.map(\.name)).enumerated() {
            let ly = top + 14 + Double(i) * 15
            out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%@\"/>", left + 10, ly - 4, Self.colors[name] ?? "#000")
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\">%@</text>\n", left + 18, ly, name)
        }
        return out
    }
}
