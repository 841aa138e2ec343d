import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// One layer's line in the sparsity report.
public struct LayerReport: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var shape: [Int]
    public var parameters: Int
    public var nonzeros: Int
    public var sparsity: Double
    public var denseFLOPs: Double
    public var sparseFLOPs: Double
    public var denseBytes: Int
    public var sparseBytes: Int
    public var denseMilliseconds: Double
    public var sparseMilliseconds: Double
    public var speedup: Double
    /// "dense" or "csr".
    public var chosen: String
}

/// The whole model's line: inference time of the dense model and of the model with the chosen paths.
public struct ModelReport: Codable, Sendable, Equatable {
    public var layers: [LayerReport]
    public var batchSize: Int
    public var parameters: Int
    public var nonzeros: Int
    public var denseMilliseconds: Double
    public var chosenMilliseconds: Double
    public var speedup: Double { chosenMilliseconds > 0 ? denseMilliseconds / chosenMilliseconds : 0 }
    /// Layers where the sparse kernel measured slower than dense (kept dense).
    public var warnings: [String] {
        layers.filter { $0.sparsity > 0 && $0.speedup < 1 }.map {
            "\($0.name): \(Int(($0.sparsity * 100).rounded()))% sparse but CSR took \(String(format: "%.3f", $0.sparseMilliseconds)) ms vs dense \(String(format: "%.3f", $0.denseMilliseconds)) ms; kept dense"
        }
    }
}

/// Chooses, per layer, dense or sparse execution by measuring both on the layer's real input, and
/// swaps in the sparse twins that won.
public enum SparseExecution {
    /// Times every Linear and Conv2D of `model` on `input` (the model's real input shape and batch), dense
    /// and as a CSR twin, keeps the faster in the model, and reports both.
    public static func optimize(_ model: Sequential, input: Tensor, budget: Double = 0.2) -> ModelReport {
        let dense = withoutGradient { Stopwatch.median(minimumRuns: 5, budget: budget) { _ = model(input) } }
        var reports: [LayerReport] = []
        var x = withoutGradient { input }
        for (index, layer) in model.layers.enumerated() {
            let layerInput = x
            defer { x = withoutGradient { model.layers[index](layerInput) } }
            let twin: Layer
            let weight: Tensor, kind: String, flopsPerWeight: Double
            if let linear = layer as? Linear {
                twin = SparseLinear(linear); weight = linear.weight.value; kind = "Linear"
                flopsPerWeight = 2 * Double(layerInput.shape[0])
            } else if let conv = layer as? Conv2D {
                twin = SparseConv2D(conv); weight = conv.weight.value; kind = "Conv2D"
                let out = withoutGradient { conv(layerInput) }
                flopsPerWeight = 2 * Double(out.shape[0] * out.shape[2] * out.shape[3])
            } else {
                continue
            }
            let values = weight.scalars
            let nonzeros = values.filter { $0 != 0 }.count
            let denseSeconds = withoutGradient { Stopwatch.median(minimumRuns: 5, budget: budget) { _ = layer(layerInput) } }
            let sparseSeconds = withoutGradient { Stopwatch.median(minimumRuns: 5, budget: budget) { _ = twin(layerInput) } }
            let useSparse = sparseSeconds < denseSeconds
            if useSparse { model.replaceLayer(at: index, with: twin) }
            reports.append(LayerReport(
                name: String(index) + ".weight", kind: kind, shape: weight.shape, parameters: weight.count, nonzeros: nonzeros,
                sparsity: 1 - Double(nonzeros) / Double(max(weight.count, 1)),
                denseFLOPs: flopsPerWeight * Double(weight.count), sparseFLOPs: flopsPerWeight * Double(nonzeros),
                denseBytes: 4 * weight.count, sparseBytes: 8 * nonzeros + 4 * (weight.shape[0] + 1),
                denseMilliseconds: denseSeconds * 1e3, sparseMilliseconds: sparseSeconds * 1e3,
                speedup: denseSeconds / sparseSeconds, chosen: useSparse ? "csr" : "dense"))
        }
        let chosen = withoutGradient { Stopwatch.median(minimumRuns: 5, budget: budget) { _ = model(input) } }
        return ModelReport(layers: reports, batchSize: input.shape.first ?? 1,
                           parameters: reports.map(\.parameters).reduce(0, +), nonzeros: reports.map(\.nonzeros).reduce(0, +),
                           denseMilliseconds: dense * 1e3, chosenMilliseconds: chosen * 1e3)
    }
}
