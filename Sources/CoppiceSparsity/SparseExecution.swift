import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// Chooses, per layer, dense or sparse execution by measuring both on the layer's real input, and
/// builds the inference model with the paths that won.
public enum SparseExecution {
    /// Folds `model` for inference (`InferenceFolding`: BatchNorm into the layer before it, ReLU into
    /// that layer's output), then times every Linear, Conv2D and WinogradConv2D of it on `input` (the
    /// model's real input shape and batch), dense and as its sparse twins (CSR; sparse Winograd
    /// F(4×4,3×3) for 3×3 stride-1 convolutions), and keeps the fastest. `model` is switched to
    /// evaluation mode, and its Conv2D layers that fold nothing (shared with the inference model) get
    /// their fastest algorithm; its weights are not changed.
    ///
    /// A Winograd layer (Q no longer of the form G W Gᵀ after Winograd-domain pruning) runs as dense or
    /// sparse Winograd; its dense baseline is the 3×3 convolution of the same shape, which is what the
    /// unpruned network runs.
    ///
    /// Every convolution's dense baseline is its fastest dense algorithm on this input (im2col, direct,
    /// Winograd F(2×2)/F(4×4) where they apply, each timed; `paths` lists them as "dense <algorithm>"),
    /// so a sparse path is compared with the best dense one, not with the default; Conv2D layers that
    /// stay dense keep that algorithm. The dense model's time is the folded dense model's, on those
    /// algorithms. Layers are named as in `model` ("3.weight").
    public static func optimize(_ model: Sequential, input: Tensor, budget: Double = 0.2) -> SparseInferenceModel {
        model.setTraining(false)
        let (folded, sourceIndices) = InferenceFolding.fold(model)
        var generator = RandomGenerator(seed: 0)
        let baselines: [Layer] = folded.layers.map { layer in
            let (inner, relu) = FusedReLU.unwrapping(layer)
            guard let winograd = inner as? WinogradConv2D else { return layer }
            let conv = Conv2D(
                inChannels: winograd.inChannels, outChannels: winograd.outChannels, kernelSize: (3, 3),
                padding: winograd.padding, bias: winograd.bias != nil, using: &generator)
            return relu ? FusedReLU(conv) : conv
        }
        let denseModel = Sequential(baselines)
        let densePaths = chooseFastestDenseAlgorithms(denseModel, input: input, budget: budget)
        var reports: [LayerReport] = []
        var x = withoutGradient { input }
        for (index, layer) in folded.layers.enumerated() {
            let layerInput = x
            defer { x = withoutGradient { folded.layers[index](layerInput) } }
            let (inner, relu) = FusedReLU.unwrapping(layer)
            var candidates: [(name: String, layer: Layer)]
            let weight: Tensor, kind: String, flopsPerWeight: Double
            if let linear = inner as? Linear {
                candidates = [("dense", layer), ("csr", SparseLinear(linear))]; weight = linear.weight.value; kind = "Linear"
                flopsPerWeight = 2 * Double(layerInput.shape[0])
            } else if let conv = inner as? Conv2D {
                candidates = [("dense", layer), ("csr", SparseConv2D(conv))]; weight = conv.weight.value; kind = "Conv2D"
                if WinogradModel.isEligible(conv) { candidates.append(("winograd-sparse", SparseWinogradConv2D(conv))) }
                let out = withoutGradient { conv(layerInput) }
                flopsPerWeight = 2 * Double(out.shape[0] * out.shape[2] * out.shape[3])
            } else if let winograd = inner as? WinogradConv2D {
                // Q's elements each cost one multiply-add per tile.
                candidates = [("winograd-dense", layer), ("winograd-sparse", SparseWinogradConv2D(winograd))]
                weight = winograd.weight.value; kind = "WinogradConv2D"
                let out = withoutGradient { winograd(layerInput) }
                let m = winograd.transform.m
                let tilesHigh: Int = (out.shape[2] + m - 1) / m, tilesWide: Int = (out.shape[3] + m - 1) / m
                let tiles: Int = out.shape[0] * tilesHigh * tilesWide
                flopsPerWeight = 2 * Double(tiles)
            } else {
                continue
            }
            if relu { candidates = candidates.map { ($0.name, $0.layer === layer ? layer : FusedReLU($0.layer)) } }
            let values = weight.scalars
            let nonzeros = values.filter { $0 != 0 }.count
            let baseline = baselines[index]
            // The dense baseline (a convolution on its fastest algorithm) and the other candidates in
            // turns, so that a change in the machine's speed while measuring does not make the choice.
            let others = candidates.filter { $0.layer !== baseline }
            let bodies: [() -> Void] = [{ _ = baseline(layerInput) }] + others.map { candidate in { _ = candidate.layer(layerInput) } }
            let seconds = withoutGradient { Stopwatch.interleavedMedians(budget: budget * Double(bodies.count), bodies) }
            let denseSeconds = seconds[0]
            var paths = densePaths[index] ?? [:]
            paths["dense"] = denseSeconds * 1e3
            var best = (name: "dense", seconds: Double.infinity, layer: layer)
            var measured = seconds.dropFirst().makeIterator()
            for candidate in candidates {
                let time = candidate.layer === baseline ? denseSeconds : measured.next()!
                paths[candidate.name] = time * 1e3
                if time < best.seconds { best = (candidate.name, time, candidate.layer) }
            }
            if best.layer !== layer { folded.replaceLayer(at: index, with: best.layer) }
            reports.append(
                LayerReport(
                    name: String(sourceIndices[index]) + ".weight", kind: kind, shape: weight.shape, parameters: weight.count,
                    nonzeros: nonzeros, sparsity: 1 - Double(nonzeros) / Double(max(weight.count, 1)),
                    denseFLOPs: flopsPerWeight * Double(weight.count), sparseFLOPs: flopsPerWeight * Double(nonzeros),
                    denseBytes: 4 * weight.count, sparseBytes: 8 * nonzeros + 4 * (weight.shape[0] + 1),
                    denseMilliseconds: denseSeconds * 1e3, sparseMilliseconds: best.seconds * 1e3,
                    speedup: denseSeconds / best.seconds, chosen: best.name, paths: paths))
        }
        // The whole models in turns, so that both see the machine in the same state.
        let whole = withoutGradient {
            Stopwatch.interleavedMedians(budget: 2 * budget, [{ _ = denseModel(input) }, { _ = folded(input) }])
        }
        let (dense, chosen) = (whole[0], whole[1])
        let report = ModelReport(
            layers: reports, batchSize: input.shape.first ?? 1,
            parameters: reports.map(\.parameters).reduce(0, +), nonzeros: reports.map(\.nonzeros).reduce(0, +),
            denseMilliseconds: dense * 1e3, chosenMilliseconds: chosen * 1e3)
        return SparseInferenceModel(model: folded, report: report)
    }

    /// Times every algorithm that applies to each Conv2D of `model` on its input there and sets the
    /// fastest as the layer's algorithm; returns the times in ms by layer index, keyed "dense <algorithm>".
    static func chooseFastestDenseAlgorithms(_ model: Sequential, input: Tensor, budget: Double) -> [Int: [String: Double]] {
        var times: [Int: [String: Double]] = [:]
        var x = withoutGradient { input }
        for (index, layer) in model.layers.enumerated() {
            if let conv = FusedReLU.unwrapping(layer).layer as? Conv2D {
                let g = Conv2DGeometry(
                    input: x.shape, weight: conv.weight.value.shape, stride: conv.stride, padding: conv.padding, dilation: conv.dilation)
                var best: (algorithm: Conv2DAlgorithm, seconds: Double)?
                for algorithm in Conv2DAlgorithm.allCases where algorithm.supports(g) {
                    conv.algorithm = algorithm
                    let layerInput = x
                    let seconds = withoutGradient { Stopwatch.median(minimumRuns: 5, budget: budget) { _ = conv(layerInput) } }
                    times[index, default: [:]]["dense \(algorithm.rawValue)"] = seconds * 1e3
                    if seconds < best?.seconds ?? .infinity { best = (algorithm, seconds) }
                }
                conv.algorithm = best?.algorithm
            }
            let layerInput = x
            x = withoutGradient { layer(layerInput) }
        }
        return times
    }
}
