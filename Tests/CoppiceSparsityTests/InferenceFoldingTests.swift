import CoppiceNN
import CoppiceSparsity
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct InferenceFoldingTests {
    /// A BatchNorm with statistics and an affine part far from the identity, in evaluation mode.
    func trainedNorm(_ features: Int, seed: UInt64) -> BatchNorm2D {
        var rng = RandomGenerator(seed: seed)
        let norm = BatchNorm2D(features: features)
        norm.weight.value = Tensor.normal([features], using: &rng)
        norm.bias.value = Tensor.normal([features], using: &rng)
        norm.runningMean.value = Tensor.normal([features], using: &rng)
        norm.runningVariance.value = Tensor.normal([features], using: &rng).squared() + 0.1
        norm.isTraining = false
        return norm
    }

    @Test func foldingBatchNormAndReLUKeepsTheOutputsOfConvolutionsAndWinogradLayers() {
        var rng = RandomGenerator(seed: 5)
        let winograd = WinogradConv2D(inChannels: 6, outChannels: 7, bias: false, using: &rng)
        winograd.weight.mask = try! WinogradPruning.winogradDomainMask(weight: winograd.weight.value, sparsity: 0.7, importance: nil)
        winograd.weight.applyMask()
        let model = Sequential([
            Conv2D(inChannels: 3, outChannels: 6, kernelSize: 3, padding: 1, bias: false, using: &rng), trainedNorm(6, seed: 6), ReLU(),
            winograd, trainedNorm(7, seed: 7), ReLU(), MaxPool2D(kernelSize: 2), Flatten(),
            Linear(inFeatures: 7 * 5 * 4, outFeatures: 5, using: &rng), ReLU(), Linear(inFeatures: 5, outFeatures: 3, using: &rng),
        ])
        let x = testTensor([2, 3, 11, 9], seed: 8)
        let expected = withoutGradient { model(x) }.scalars
        let (folded, sources) = InferenceFolding.fold(model)
        #expect(sources == [0, 3, 6, 7, 8, 10])
        #expect(folded.layers.count == 6 && folded.layers.prefix(2).allSatisfy { $0 is FusedReLU } && folded.layers[4] is FusedReLU)
        #expect(allClose(withoutGradient { folded(x) }.scalars, expected, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
        // Winograd-domain zeros stay zeros, and the trained model is untouched.
        let foldedQ = (FusedReLU.unwrapping(folded.layers[1]).layer as! WinogradConv2D).weight.value.scalars
        #expect(zip(foldedQ, winograd.weight.value.scalars).allSatisfy { ($0 == 0) == ($1 == 0) })
        #expect(allClose(withoutGradient { model(x) }.scalars, expected, relativeTolerance: 0, absoluteTolerance: 0))
    }

    @Test func aBatchNormInTrainingModeIsNotFolded() {
        var rng = RandomGenerator(seed: 9)
        let norm = trainedNorm(4, seed: 10)
        norm.isTraining = true
        let model = Sequential([Conv2D(inChannels: 2, outChannels: 4, kernelSize: 3, using: &rng), norm, ReLU()])
        let (folded, _) = InferenceFolding.fold(model)
        #expect(folded.layers.count == 3 && folded.layers[1] === norm)
    }
}
