import Foundation

/// A minimal line chart in a 440×320 panel.
public struct LineChart: Sendable {
    public var title: String
    public var x: [Double]
    public var series: [(name: String, color: String, values: [Double])]
    public var xLabel = "epoch"
    /// Draws the legend above the plot (room for two or three series); off when the caller draws one.
    public var legend = true

    public init(
        title: String, x: [Double], series: [(name: String, color: String, values: [Double])],
        xLabel: String = "epoch", legend: Bool = true
    ) {
        (self.title, self.x, self.series, self.xLabel, self.legend) = (title, x, series, xLabel, legend)
    }

    public func render(originX: Double) -> String {
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
            for p in points {
                out += "<circle cx=\"\(p.split(separator: ",")[0])\" cy=\"\(p.split(separator: ",")[1])\" r=\"3\" fill=\"\(s.color)\"/>\n"
            }
            guard legend else { continue }
            // Legend above the plot area, so it never covers a curve.
            let lx = left + width - 140 + Double(index) * 70, ly = 18.0
            out += String(
                format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>", lx, lx + 20, ly - 4, ly - 4,
                s.color)
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\">%@</text>\n", lx + 25, ly, s.name)
        }
        return out
    }
}
