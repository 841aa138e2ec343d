import CoppiceSparsity
import Foundation

/// One row of a spatial-Winograd run: the model after a stage.
public struct WinogradStageResult: Codable, Sendable, Equatable {
    /// "dense", "spatial" or "winograd".
    public var phase: String
    public var stage: Int
    public var target: Double
    public var testAccuracy: Double
    /// Paper's "overall of pruned layers" Winograd-domain sparsity, and over all 3×3 convolutions.
    public var winogradSparsity: Double
    public var winogradSparsityAllLayers: Double
    /// Exact zeros among the spatial 3×3 weights (nil once the layers are Winograd).
    public var spatialSparsity: Double?
    /// Exact zeros among all Linear weights (nil in results written before Linear layers were pruned).
    public var linearSparsity: Double?
    public var epochs: Int
    public var seconds: Double
    public var layers: [WinogradSparsityReport.Layer]

    enum CodingKeys: String, CodingKey {
        case phase, stage, target, epochs, seconds, layers
        case testAccuracy = "test_accuracy", winogradSparsity = "winograd_sparsity"
        case winogradSparsityAllLayers = "winograd_sparsity_all_layers", spatialSparsity = "spatial_sparsity"
        case linearSparsity = "linear_sparsity"
    }
}
