import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// A model's 3×3 convolutions seen through the Winograd domain: finding them, converting them to
/// Winograd layers, and counting their Winograd-domain sparsity as Yu et al.'s code reports it.
public enum WinogradModel {
    /// One convolution: a spatial `Conv2D` (3×3, stride 1, dilation 1) or a `WinogradConv2D`.
    public struct Convolution {
        public let name: String
        public let layer: Layer
        /// The parameter pruning acts on: W [K, C, 3, 3] or Q [K, C, n, n].
        public var weight: Parameter { (layer as? Conv2D)?.weight ?? (layer as! WinogradConv2D).weight }
        public var isWinograd: Bool { layer is WinogradConv2D }
    }

    /// Every eligible convolution in visiting order (recursing into nested modules), named by its
    /// dotted path (`3`, `5.body.0`).
    public static func convolutions(in model: Module) -> [Convolution] {
        var found: [Convolution] = []
        var visitor = ParameterVisitor(
            onParameter: { _, _, _ in },
            onModule: { name, module in
                if let conv = module as? Conv2D, isEligible(conv) { found.append(Convolution(name: name, layer: conv)) }
                if let winograd = module as? WinogradConv2D { found.append(Convolution(name: name, layer: winograd)) }
            })
        model.visit(&visitor)
        return found
    }

    public static func isEligible(_ conv: Conv2D) -> Bool {
        conv.weight.shape[2] == 3 && conv.weight.shape[3] == 3 && conv.stride == (1, 1) && conv.dilation == (1, 1)
    }

    /// Replaces every eligible `Conv2D` for which `include(name)` holds by a `WinogradConv2D` with
    /// Q = G W Gᵀ; pruned spatial weights become exact zeros of Q, and each new Q gets the mask of its
    /// nonzeros. Returns the names converted.
    @discardableResult
    public static func convert(
        _ model: Sequential, transform: WinogradTransform = .f4x3,
        include: (String) -> Bool = { _ in true }
    ) -> [String] {
        var converted: [String] = []
        replace(in: model, prefix: "") { name, layer in
            guard let conv = layer as? Conv2D, isEligible(conv), include(name) else { return nil }
            let winograd = WinogradConv2D(converting: conv, transform: transform)
            if conv.weight.mask != nil {
                winograd.weight.mask = withoutGradient { winograd.weight.value.abs().sign() }
            }
            converted.append(name)
            return winograd
        }
        return converted
    }

    /// Converts the convolutions whose saved weights are Winograd-domain ([K, C, n, n] with n = 4 or 6)
    /// so that a state dict written after conversion loads into a freshly built model.
    public static func convertToMatch(_ model: Sequential, stateDict: [String: Tensor]) {
        for n in [4, 6] {
            guard let transform = WinogradTransform.outputTile(n - 2) else { continue }
            convert(model, transform: transform) { name in
                guard let shape = stateDict[name + ".weight"]?.shape else { return false }
                return shape.count == 4 && shape[2] == n && shape[3] == n
            }
        }
    }

    /// Calls `body(name, layer)` on every layer of `sequential` and of the modules inside it; a
    /// non-nil result takes the layer's place.
    static func replace(in sequential: Sequential, prefix: String, _ body: (String, Layer) -> Layer?) {
        for (index, layer) in sequential.layers.enumerated() {
            let name = prefix + String(index)
            if let replacement = body(name, layer) {
                sequential.replaceLayer(at: index, with: replacement)
            } else if let nested = layer as? Sequential {
                replace(in: nested, prefix: name + ".", body)
            } else if let residual = layer as? Residual {
                replace(in: residual.body, prefix: name + ".body.", body)
                if let shortcut = residual.shortcut { replace(in: shortcut, prefix: name + ".shortcut.", body) }
            }
        }
    }

    /// Per-layer Winograd-domain sparsity: exact zeros of G W Gᵀ for spatial layers (with `transform`)
    /// or of Q for Winograd layers.
    public static func sparsity(of model: Module, transform: WinogradTransform = .f4x3) -> WinogradSparsityReport {
        WinogradSparsityReport(
            layers: convolutions(in: model).map { conv in
                let (zeros, count) =
                    conv.isWinograd
                    ? WinogradPruning.zeros(of: conv.weight.value)
                    : WinogradPruning.winogradZeros(spatialWeight: conv.weight.value, transform: transform)
                let spatial = conv.isWinograd ? nil : WinogradPruning.zeros(of: conv.weight.value)
                return .init(name: conv.name, zeros: zeros, count: count, spatialZeros: spatial?.zeros, spatialCount: spatial?.count)
            })
    }
}

/// Winograd-domain sparsity per layer and overall.
public struct WinogradSparsityReport: Codable, Sendable, Equatable {
    public struct Layer: Codable, Sendable, Equatable {
        public var name: String
        public var zeros: Int
        public var count: Int
        /// Exact zeros among the spatial weights, and their number (nil for Winograd layers).
        public var spatialZeros: Int?, spatialCount: Int?
        public var sparsity: Double { Double(zeros) / Double(max(count, 1)) }
    }

    public var layers: [Layer]

    /// "Overall of pruned layers" as in the paper's code: Σ zeros / Σ elements over the layers whose
    /// own sparsity exceeds 5%.
    public var overall: Double {
        let pruned = layers.filter { $0.sparsity > 0.05 }
        return Double(pruned.map(\.zeros).reduce(0, +)) / Double(max(pruned.map(\.count).reduce(0, +), 1))
    }

    /// Σ spatial zeros / Σ spatial weights, while every layer is still spatial.
    public var spatialSparsity: Double? {
        let zeros = layers.compactMap(\.spatialZeros), counts = layers.compactMap(\.spatialCount)
        guard !layers.isEmpty, zeros.count == layers.count else { return nil }
        return Double(zeros.reduce(0, +)) / Double(max(counts.reduce(0, +), 1))
    }

    /// Σ zeros / Σ elements over every 3×3 convolution.
    public var allLayers: Double {
        Double(layers.map(\.zeros).reduce(0, +)) / Double(max(layers.map(\.count).reduce(0, +), 1))
    }
}
