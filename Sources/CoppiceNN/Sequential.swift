import CoppiceKernels
import CoppiceTensor

/// Layers applied in order; their parameters are named by position ("0.weight", "2.bias", ...).
public final class Sequential: Layer {
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers }

    public func visit(_ v: inout ParameterVisitor) {
        for (index, layer) in layers.enumerated() { v.module(String(index), layer) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }

    /// Swaps the layer at `index` for another (a sparse twin, a compacted layer); names stay positional.
    public func replaceLayer(at index: Int, with layer: Layer) {
        checkArgument(layers.indices.contains(index), "layer index \(index) out of range for \(layers.count) layers")
        layers[index] = layer
    }
}
