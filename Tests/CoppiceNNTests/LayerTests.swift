import CoppiceNN
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct LayerTests {
    @Test func linearComputesAffineMapAndNamesParameters() throws {
        var rng = RandomGenerator(seed: 1)
        let model = Sequential([
            Linear(inFeatures: 3, outFeatures: 2, using: &rng), ReLU(),
            Linear(inFeatures: 2, outFeatures: 1, bias: false, using: &rng),
        ])
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight"])
        let first = model.layers[0] as! Linear
        let x = try Tensor(shape: [1, 3], values: [1, 2, 3])
        let expected = matmul(x, first.weight.value.transposed()) + first.bias!.value
        #expect(allClose(first(x).scalars, expected.scalars))
        #expect(first(Tensor([1, 2, 3])).shape == [2])
        #expect(model.parameterCount() == 3 * 2 + 2 + 2)
    }

    @Test func stateDictRoundTripsAndRejectsMismatches() throws {
        var rng = RandomGenerator(seed: 2)
        let a = Sequential([Linear(inFeatures: 4, outFeatures: 3, using: &rng), BatchNorm1D(features: 3)])
        let b = Sequential([Linear(inFeatures: 4, outFeatures: 3, using: &rng), BatchNorm1D(features: 3)])
        let state = a.stateDict()
        #expect(Set(state.keys) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"])
        try b.load(stateDict: state)
        #expect(b.stateDict()["0.weight"]?.scalars == state["0.weight"]?.scalars)
        var bad = state
        bad["0.weight"] = Tensor.zeros([3, 5])
        #expect(throws: ModuleError.shapeMismatch(key: "0.weight", expected: [3, 4], found: [3, 5])) { try b.load(stateDict: bad) }
        bad = state
        bad["extra"] = Tensor.zeros([1])
        #expect(throws: ModuleError.unexpectedKey("extra")) { try b.load(stateDict: bad) }
        bad = state
        bad.removeValue(forKey: "1.bias")
        #expect(throws: ModuleError.missingKey("1.bias")) { try b.load(stateDict: bad) }
    }

    @Test func batchNormUsesBatchStatisticsInTrainingAndRunningOnesInEvaluation() throws {
        let bn = BatchNorm2D(features: 2, momentum: 0.5)
        let x = try Tensor(shape: [2, 2, 1, 2], values: [1, 3, 10, 10, 5, 7, 20, 30])
        let y = bn(x)
        // Channel 0 holds 1, 3, 5, 7: mean 4, biased variance 5.
        let expected0 = [1, 3, 5, 7].map { (Float($0) - 4) / (5 + 1e-5).squareRoot() }
        let values = y.scalars
        #expect(allClose([values[0], values[1], values[4], values[5]], expected0, relativeTolerance: 1e-4))
        // Running mean 0.5·0 + 0.5·4 = 2; running variance 0.5·1 + 0.5·(20/3) (unbiased).
        #expect(allClose(bn.runningMean.value.scalars, [2, 8.75]))
        #expect(allClose([bn.runningVariance.value.scalars[0]], [0.5 + 0.5 * 20 / 3], relativeTolerance: 1e-5))
        bn.setTraining(false)
        let evaluated = bn(x).scalars
        #expect(Swift.abs(evaluated[0] - (1 - 2) / (0.5 + 0.5 * 20 / 3 + 1e-5).squareRoot()) < 1e-5)
    }

    @Test func normalizationLayersHaveCorrectGradients() {
        let x = testTensor([3, 5], seed: 3)
        let ln = LayerNorm(features: 5), rms = RMSNorm(features: 5), bn = BatchNorm1D(features: 5)
        for layer in [ln, rms, bn] as [Layer] {
            let bad = GradientCheck.mismatches([x]) { layer($0[0]) }
            #expect(bad.isEmpty, "\(type(of: layer)): \(bad.prefix(3))")
        }
        let image = testTensor([2, 3, 3, 2], seed: 4)
        let bn2 = BatchNorm2D(features: 3)
        #expect(GradientCheck.mismatches([image]) { bn2($0[0]) }.isEmpty)
    }

    @Test func dropoutScalesInTrainingAndIsIdentityInEvaluation() {
        let dropout = Dropout(probability: 0.25, seed: 5)
        let x = Tensor.ones([10_000])
        let y = dropout(x).scalars
        #expect(Set(y) == [0, 1 / 0.75])
        #expect(Swift.abs(Float(y.filter { $0 == 0 }.count) / 10_000 - 0.25) < 0.02)
        let model = Sequential([dropout])
        model.setTraining(false)
        #expect(dropout(x).scalars == x.scalars)
    }

    @Test func poolingFlattenAndEmbeddingLayers() throws {
        var rng = RandomGenerator(seed: 6)
        let x = testTensor([2, 3, 4, 4], seed: 7)
        #expect(MaxPool2D(kernelSize: 2)(x).shape == [2, 3, 2, 2])
        #expect(AvgPool2D(kernelSize: 2, stride: 1)(x).shape == [2, 3, 3, 3])
        #expect(GlobalAvgPool2D()(x).shape == [2, 3])
        #expect(Flatten()(x).shape == [2, 48])
        let conv = Conv2D(inChannels: 3, outChannels: 5, kernelSize: 3, padding: 1, using: &rng)
        #expect(conv(x).shape == [2, 5, 4, 4])
        let embedding = Embedding(count: 10, dimension: 4, using: &rng)
        #expect(try embedding([1, 9, 1]).shape == [3, 4])
        #expect(throws: TensorError.self) { try embedding([10]) }
        let bag = EmbeddingBag(count: 10, dimension: 4, mode: .mean, using: &rng)
        #expect(try bag([1, 2, 3], offsets: [0, 1]).shape == [2, 4])
        #expect(throws: TensorError.self) { try bag([1, 2], offsets: [1]) }
    }

    @Test func initializersHaveTheirDocumentedScale() {
        var rng = RandomGenerator(seed: 8)
        let kaiming = Initializer.kaimingNormal().make([256, 128, 3, 3], using: &rng)
        let std = (kaiming.squared().mean().item).squareRoot()
        #expect(Swift.abs(std - (2 / Float(128 * 9)).squareRoot()) < 0.002)
        let xavier = Initializer.xavierUniform.make([300, 200], using: &rng).scalars
        let bound = (6 / Float(500)).squareRoot()
        #expect(xavier.allSatisfy { Swift.abs($0) <= bound } && xavier.contains { Swift.abs($0) > 0.9 * bound })
    }
}

@Suite struct LossTests {
    @Test func crossEntropyMatchesHandComputation() throws {
        let logits = try Tensor(shape: [2, 3], values: [1, 2, 3, 0, 0, 0])
        let loss = try Loss.crossEntropy(logits, labels: [2, 0]).item
        let expected = ((3 - logSumExp([1, 2, 3])) * -1 + logSumExp([0, 0, 0])) / 2
        #expect(Swift.abs(loss - expected) < 1e-5)
        let smoothed = try Loss.crossEntropy(logits, labels: [2, 0], labelSmoothing: 0.1).item
        // PyTorch: (1 − ε)·NLL + ε·mean over classes of −log p.
        let row0 = [1, 2, 3].map { Float($0) - logSumExp([1, 2, 3]) }
        let row1 = [Float](repeating: -logSumExp([0, 0, 0]), count: 3)
        let smooth0 = 0.9 * -row0[2] + 0.1 * -row0.reduce(0, +) / 3
        let smooth1 = 0.9 * -row1[0] + 0.1 * -row1.reduce(0, +) / 3
        #expect(Swift.abs(smoothed - (smooth0 + smooth1) / 2) < 1e-5)
        #expect(throws: TensorError.self) { try Loss.crossEntropy(logits, labels: [3, 0]) }
        #expect(throws: TensorError.self) { try Loss.crossEntropy(logits, labels: [0]) }
    }

    @Test func lossGradientsMatchFiniteDifferences() throws {
        let logits = testTensor([4, 5], seed: 9)
        #expect(GradientCheck.mismatches([logits]) { try! Loss.crossEntropy($0[0], labels: [0, 4, 2, 2], labelSmoothing: 0.1) }.isEmpty)
        let targets = try Tensor(shape: [4, 5], values: (0..<20).map { Float($0 % 2) })
        #expect(GradientCheck.mismatches([logits * 4]) { try! Loss.binaryCrossEntropyWithLogits($0[0], targets: targets) }.isEmpty)
        #expect(GradientCheck.mismatches([logits]) { try! Loss.meanSquaredError($0[0], targets) }.isEmpty)
    }

    @Test func binaryCrossEntropyIsStableForLargeLogits() throws {
        let logits = Tensor([100, -100, 0])
        let loss = try Loss.binaryCrossEntropyWithLogits(logits, targets: Tensor([1, 0, 1])).item
        #expect(loss.isFinite && Swift.abs(loss - Float(0.6931472) / 3) < 1e-5)
        #expect(throws: TensorError.self) { try Loss.meanSquaredError(Tensor([1]), Tensor([1, 2])) }
    }
}

func logSumExp(_ values: [Float]) -> Float {
    let m = values.max()!
    return m + values.map { expf($0 - m) }.reduce(0, +).log()
}

private extension Float {
    func log() -> Float { logf(self) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
