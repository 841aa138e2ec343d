import CoppiceNN
import CoppiceSparsity
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct SparseLayerTests {
    func pruned(_ layer: some Layer & Module, sparsity: Double) throws {
        let pruner = try Pruner(
            model: layer,
            recipe: PruningRecipe(
                method: PruningMethod(), schedule: .oneShot(sparsity: sparsity, step: 0),
                parameters: ["weight"]))
        try pruner.step(0)
    }

    @Test(arguments: [0.0, 0.5, 0.99, 1.0])
    func sparseLinearMatchesTheMaskedDenseLayer(sparsity: Double) throws {
        var rng = RandomGenerator(seed: 1)
        let linear = Linear(inFeatures: 33, outFeatures: 17, using: &rng)
        try pruned(linear, sparsity: sparsity)
        let sparse = SparseLinear(linear)
        for batch in [1, 3, 130] {
            let x = Tensor.normal([batch, 33], using: &rng)
            #expect(allClose(sparse(x).scalars, linear(x).scalars, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
        }
        #expect(sparse.namedParameters(includingBuffers: true).map(\.name) == ["weight", "bias"])
        let x = Tensor.normal([4, 33], using: &rng).requiringGrad()
        sparse(x).sum().backward()
        let reference = x.detached().requiringGrad()
        linear(reference).sum().backward()
        #expect(allClose(x.grad!.scalars, reference.grad!.scalars, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
    }

    @Test(arguments: [0.0, 0.5, 0.99, 1.0])
    func sparseConvolutionMatchesTheMaskedDenseLayer(sparsity: Double) throws {
        var rng = RandomGenerator(seed: 2)
        let conv = Conv2D(inChannels: 3, outChannels: 5, kernelSize: (3, 2), stride: (2, 1), padding: (1, 1), using: &rng)
        try pruned(conv, sparsity: sparsity)
        let sparse = SparseConv2D(conv)
        let x = Tensor.normal([2, 3, 9, 7], using: &rng)
        #expect(allClose(sparse(x).scalars, conv(x).scalars, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
        let probe = x.requiringGrad(), reference = x.requiringGrad()
        sparse(probe).sum().backward()
        conv(reference).sum().backward()
        #expect(allClose(probe.grad!.scalars, reference.grad!.scalars, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
    }

    @Test func optimizingAModelKeepsItsOutputsAndReportsEveryLayer() throws {
        var rng = RandomGenerator(seed: 3)
        let model = Sequential([
            Conv2D(inChannels: 1, outChannels: 8, kernelSize: 3, padding: 1, using: &rng), ReLU(), Flatten(),
            Linear(inFeatures: 8 * 8 * 8, outFeatures: 64, using: &rng), ReLU(),
            Linear(inFeatures: 64, outFeatures: 10, using: &rng),
        ])
        let pruner = try Pruner(model: model, recipe: PruningRecipe(method: PruningMethod(), schedule: .oneShot(sparsity: 0.95, step: 0)))
        try pruner.step(0)
        let x = Tensor.normal([2, 1, 8, 8], using: &rng)
        let before = withoutGradient { model(x) }.scalars
        let inference = SparseExecution.optimize(model, input: x, budget: 0.01)
        let report = inference.report
        #expect(report.layers.map(\.name) == ["0.weight", "3.weight", "5.weight"])
        #expect(report.layers.allSatisfy { Swift.abs($0.sparsity - 0.95) < 0.01 && $0.sparseFLOPs < $0.denseFLOPs })
        #expect(report.layers.allSatisfy { ($0.chosen != "dense") == ($0.speedup > 1) }, "\(report.layers.map { ($0.chosen, $0.speedup) })")
        #expect(allClose(inference(x).scalars, before, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
        // The convolution's dense baseline is its fastest algorithm, each one timed.
        let convPaths = report.layers[0].paths
        let denseAlgorithms = Conv2DAlgorithm.allCases.map { "dense \($0.rawValue)" }
        #expect(denseAlgorithms.allSatisfy { convPaths[$0] != nil }, "\(convPaths)")
        if report.layers[0].chosen == "dense", let conv = model.layers[0] as? Conv2D {
            let fastest = Conv2DAlgorithm.allCases.min { convPaths["dense \($0.rawValue)"]! < convPaths["dense \($1.rawValue)"]! }
            #expect(conv.algorithm == fastest)
        }
    }
}
