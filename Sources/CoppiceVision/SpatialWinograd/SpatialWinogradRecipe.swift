import CoppiceFormats
import CoppiceKernels
import CoppiceRuns
import CoppiceSparsity
import Foundation

/// A spatial-Winograd pruning run as data (Yu, Park & Naumov 2019; papers.md §1.4–1.5), and the two
/// baselines in the same harness. Saved as `recipe.json` beside the results.
///
/// - `spatial-winograd`: step 1 prunes whole support sets of every 3×3 kernel to per-layer Winograd
///   sparsity targets (first convolution fixed at `firstLayerSparsity`), retraining in the spatial
///   domain after each stage; step 2 converts to Winograd layers (Q = G W Gᵀ), prunes Q where
///   |Q|·F < t and retrains with ∂L/∂Q scaled by F^(−gradientExponent).
/// - `winograd-direct` (Li et al. 2017): only the Winograd stages, from the dense model, usually with
///   `importance: false` and `gradientExponent: 0`.
/// - `spatial-unstructured`: element-wise magnitude pruning of the spatial weights to the spatial
///   stages' targets (which leaves the Winograd domain almost dense).
///
/// With `linearSparsity`, every method also prunes the Linear layers but the last (the classifier)
/// element-wise by magnitude, in even steps over the first step's stages (the Winograd stages where
/// there are none), so that the whole model is small, not only its convolutions.
public struct SpatialWinogradRecipe: Codable, Sendable, Equatable {
    public enum Method: String, Codable, Sendable, CaseIterable {
        case spatialWinograd = "spatial-winograd", winogradDirect = "winograd-direct", spatialUnstructured = "spatial-unstructured"
    }

    /// One pruning stage: the per-layer target, then retraining.
    public struct Stage: Codable, Sendable, Equatable {
        public var target: Double
        public var epochs: Int
        public var learningRate: Float

        public init(target: Double, epochs: Int, learningRate: Float) {
            self.target = target
            self.epochs = epochs
            self.learningRate = learningRate
        }

        enum CodingKeys: String, CodingKey { case target, epochs, learningRate = "lr" }
    }

    public var method: Method = .spatialWinograd
    /// Output tile m of F(m×m, 3×3): 4 (the paper's default) or 2.
    public var tile = 4
    /// The first convolution's fixed Winograd-domain (or, unstructured, spatial) sparsity.
    public var firstLayerSparsity = 0.2
    /// Step 1 (or the unstructured baseline's) stages.
    public var spatialStages: [Stage] = []
    /// Step 2 (or Winograd-direct) stages.
    public var winogradStages: [Stage] = []
    /// Rank Q by |Q|·F (true) or |Q| (false).
    public var importance = true
    /// ∂L/∂Q is multiplied by F^(−gradientExponent) before the optimizer step (0: unscaled).
    public var gradientExponent = 1.5
    /// Weight decay while retraining Winograd layers (nil: the run's).
    public var winogradWeightDecay: Float?
    /// Final sparsity of the hidden Linear layers (nil or 0: they stay dense).
    public var linearSparsity: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case method, tile, importance
        case firstLayerSparsity = "first_layer_sparsity", spatialStages = "spatial_stages", winogradStages = "winograd_stages"
        case gradientExponent = "gradient_exponent", winogradWeightDecay = "winograd_weight_decay", linearSparsity = "linear_sparsity"
    }

    public var transform: WinogradTransform { WinogradTransform.outputTile(tile) ?? .f4x3 }

    /// The hidden Linear layers' sparsity after spatial stage `spatialStage` (1-based; 0 for none)
    /// and Winograd stage `winogradStage`: even steps over the spatial stages, or over the Winograd
    /// stages where there are no spatial ones.
    public func linearTarget(spatialStage: Int, winogradStage: Int) -> Double {
        let final = linearSparsity ?? 0
        if !spatialStages.isEmpty { return final * Double(min(spatialStage, spatialStages.count)) / Double(spatialStages.count) }
        return winogradStages.isEmpty ? 0 : final * Double(min(winogradStage, winogradStages.count)) / Double(winogradStages.count)
    }

    /// The embedded default for 28×28 Fashion-MNIST with `vgg-fmnist` (see docs/results/spatial-winograd-fashion-mnist.md).
    public static let fashionMNIST: SpatialWinogradRecipe = {
        var r = SpatialWinogradRecipe()
        r.spatialStages = [0.3, 0.45, 0.55, 0.6, 0.65, 0.7].map { Stage(target: $0, epochs: 1, learningRate: 0.01) }
        r.winogradStages = [0.73, 0.76].map { Stage(target: $0, epochs: 1, learningRate: 2e-5) }
        r.linearSparsity = 0.9
        return r
    }()

    public func validate() throws(TrainingError) {
        func check(_ ok: Bool, _ message: String) throws(TrainingError) { if !ok { throw .invalidConfiguration("recipe: " + message) } }
        try check(tile == 2 || tile == 4, "tile must be 2 or 4 (F(2×2,3×3) or F(4×4,3×3)), got \(tile)")
        try check((0...1).contains(firstLayerSparsity), "first_layer_sparsity must be in [0, 1], got \(firstLayerSparsity)")
        for stage in spatialStages + winogradStages {
            try check((0...1).contains(stage.target), "stage target must be in [0, 1], got \(stage.target)")
            try check(stage.epochs >= 0, "stage epochs must be non-negative, got \(stage.epochs)")
            try check(stage.learningRate > 0 && stage.learningRate.isFinite, "stage lr must be positive, got \(stage.learningRate)")
        }
        try check(gradientExponent >= 0 && gradientExponent.isFinite, "gradient_exponent must be non-negative, got \(gradientExponent)")
        if let linearSparsity { try check((0..<1).contains(linearSparsity), "linear_sparsity must be in [0, 1), got \(linearSparsity)") }
        switch method {
        case .spatialWinograd: try check(!spatialStages.isEmpty || !winogradStages.isEmpty, "spatial-winograd needs stages")
        case .winogradDirect: try check(!winogradStages.isEmpty && spatialStages.isEmpty, "winograd-direct has Winograd stages only")
        case .spatialUnstructured: try check(!spatialStages.isEmpty && winogradStages.isEmpty, "spatial-unstructured has spatial stages only")
        }
    }

    public static func load(from path: String) throws(TrainingError) -> SpatialWinogradRecipe {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidConfiguration("\(path): cannot read") }
        let recipe: SpatialWinogradRecipe
        do { recipe = try JSONDecoder().decode(SpatialWinogradRecipe.self, from: data) } catch {
            throw .invalidConfiguration("\(path): not a spatial-Winograd recipe: \(error)")
        }
        let unknown = JSONUnknownKeys.paths(in: data, decoded: recipe)
        guard unknown.isEmpty else { throw .invalidConfiguration("\(path): unknown key(s) \(unknown.joined(separator: ", "))") }
        try recipe.validate()
        return recipe
    }
}
