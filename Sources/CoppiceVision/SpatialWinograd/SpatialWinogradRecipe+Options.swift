extension SpatialWinogradRecipe {
    /// A recipe from `coppice spatial-winograd`'s options: the method's steps take the given per-layer
    /// stage targets, or the embedded Fashion-MNIST recipe's (a method without a step gets none),
    /// each stage retrained `stageEpochs` epochs at its step's learning rate; the hidden Linear layers
    /// are pruned to `linearSparsity` (by default the embedded recipe's).
    public init(
        method: Method, tile: Int = 4, spatialTargets: [Double]? = nil, winogradTargets: [Double]? = nil,
        stageEpochs: Int = 1, spatialLearningRate: Float = 0.01, winogradLearningRate: Float = 2e-5,
        firstLayerSparsity: Double = 0.2, gradientExponent: Double = 1.5, importance: Bool = true,
        linearSparsity: Double? = SpatialWinogradRecipe.fashionMNIST.linearSparsity
    ) {
        self.init()
        self.method = method
        self.tile = tile
        self.firstLayerSparsity = firstLayerSparsity
        self.gradientExponent = gradientExponent
        self.importance = importance
        self.linearSparsity = linearSparsity
        let defaults = SpatialWinogradRecipe.fashionMNIST
        let spatial = spatialTargets ?? (method == .winogradDirect ? [] : defaults.spatialStages.map(\.target))
        let winograd = winogradTargets ?? (method == .spatialUnstructured ? [] : defaults.winogradStages.map(\.target))
        spatialStages = spatial.map { Stage(target: $0, epochs: stageEpochs, learningRate: spatialLearningRate) }
        winogradStages = winograd.map { Stage(target: $0, epochs: stageEpochs, learningRate: winogradLearningRate) }
    }
}
