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
    /// "dense", "csr" or "winograd-sparse".
    public var chosen: String
    /// Measured milliseconds of every path tried.
    public var paths: [String: Double] = [:]
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
    /// The fraction of the layers' weight multiply-adds (Winograd-domain ones for Winograd layers) that
    /// the zeros remove.
    public var flopSparsity: Double {
        let dense = layers.map(\.denseFLOPs).reduce(0, +)
        return dense > 0 ? 1 - layers.map(\.sparseFLOPs).reduce(0, +) / dense : 0
    }
    /// Layers where every sparse path measured slower than dense.
    public var warnings: [String] {
        layers.filter { $0.sparsity > 0 && $0.speedup < 1 }.map {
            "\($0.name): \(Int(($0.sparsity * 100).rounded()))% sparse but its fastest path (\($0.chosen)) took \(String(format: "%.3f", $0.sparseMilliseconds)) ms vs dense \(String(format: "%.3f", $0.denseMilliseconds)) ms"
        }
    }
}
