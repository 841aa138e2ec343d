import CoppiceSparsity
import Foundation

extension RunReport {
    /// Per-layer bars: sparsity (left) and measured speedup of the sparse kernel (right, 1× marked).
    public static func sparsitySVG(_ report: ModelReport) -> String {
        let layers = report.layers
        let rowHeight = 26.0, top = 40.0
        let height = top + Double(layers.count) * rowHeight + 30
        let maxSpeedup = max(2, layers.map(\.speedup).max() ?? 1)
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="760" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="760" height="\(Int(height))" fill="white"/>
            <text x="130" y="20" font-weight="bold">Sparsity</text>
            <text x="450" y="20" font-weight="bold">Speedup of the fastest path over dense (batch \(report.batchSize))</text>

            """
        for (i, layer) in layers.enumerated() {
            let y = top + Double(i) * rowHeight
            out += "<text x=\"120\" y=\"\(y + 15)\" text-anchor=\"end\">\(layer.name) (\(layer.kind))</text>\n"
            out += String(format: "<rect x=\"130\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"#1f77b4\"/>\n", y, 250 * layer.sparsity)
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\">%.0f%%</text>\n", 135 + 250 * layer.sparsity, y + 14, 100 * layer.sparsity)
            let width = 250 * layer.speedup / maxSpeedup
            out += String(
                format: "<rect x=\"450\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%@\"/>\n", y, width,
                layer.speedup >= 1 ? "#2ca02c" : "#d62728")
            out += String(format: "<text x=\"%.1f\" y=\"%.1f\">%.2f× (%@)</text>\n", 455 + width, y + 14, layer.speedup, layer.chosen)
        }
        let one = 450 + 250 / maxSpeedup
        out += String(
            format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>\n", one, one, top - 5,
            height - 25)
        out += String(
            format: "<text x=\"130\" y=\"%.1f\">whole model: %.3f ms dense, %.3f ms with chosen paths (%.2f×)</text>\n",
            height - 8, report.denseMilliseconds, report.chosenMilliseconds, report.speedup)
        return out + "</svg>\n"
    }
}
