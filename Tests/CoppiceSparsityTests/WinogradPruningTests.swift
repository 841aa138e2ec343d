import Foundation
import CoppiceKernels
import CoppiceNN
import CoppiceSparsity
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct WinogradPruningTests {
    @Test func structuredMaskPrunesWholeSupportSets() throws {
        // Corners tiny, edges' middles medium, centre large: a threshold between the corner and edge
        // magnitudes prunes exactly the four corners, giving four exact Winograd zeros.
        let kernel: [Float] = [0.01, 0.5, -0.02, 0.4, 2, -0.6, 0.03, 0.45, -0.015]
        let w = Tensor(kernel).reshaped([1, 1, 3, 3])
        let mask = try WinogradPruning.structuredMask(weight: w, threshold: 0.1)
        #expect(mask.scalars == [0, 1, 0, 1, 1, 1, 0, 1, 0])
        let pruned = w * mask
        #expect(WinogradPruning.winogradZeros(spatialWeight: pruned).zeros == 4)
        // Above every edge's largest weight, all border sets go; the centre (whole-kernel set) stays.
        let borders = try WinogradPruning.structuredMask(weight: w, threshold: 1)
        #expect(borders.scalars == [0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(WinogradPruning.winogradZeros(spatialWeight: w * borders) == (20, 36))
    }

    @Test(arguments: [0.2, 0.5, 0.7])
    func bisectionReachesTheWinogradTargetExactlyInGWG(target: Double) throws {
        let w = testTensor([12, 7, 3, 3], seed: 70)
        for transform in [WinogradTransform.f4x3, .f2x3] {
            let (mask, _, reached) = try WinogradPruning.structuredMask(weight: w, winogradSparsity: target, transform: transform)
            let counted = WinogradPruning.winogradZeros(spatialWeight: w * mask, transform: transform)
            #expect(Double(counted.zeros) / Double(counted.count) == reached, "the support-set count is the exact count of G W Gᵀ")
            #expect(reached >= target && reached < target + 0.05, "F(\(transform.m)): reached \(reached) for \(target)")
        }
    }

    @Test func unstructuredPruningLeavesTheWinogradDomainAlmostDense() throws {
        let w = testTensor([16, 16, 3, 3], seed: 71)
        let mask = try MaskSelection.mask(scores: w.abs(), previous: nil, amount: .fraction(0.5), granularity: .element)
        let (zeros, count) = WinogradPruning.winogradZeros(spatialWeight: w * mask)
        // Only corners (1 weight) and edges (3) can vanish: about 4/36·½ + 16/36·⅛ ≈ 11% of G W Gᵀ.
        #expect(Double(zeros) / Double(count) < 0.15, "50% spatial sparsity gave \(zeros)/\(count) Winograd zeros")
    }

    @Test func importanceRanksLowGainPositionsFirst() throws {
        // Equal magnitudes everywhere: with F, the positions of lowest gain (the corners, F = 1) go first.
        let q = Tensor.ones([2, 3, 6, 6])
        let f = WinogradTransform.f4x3.importanceFactors
        let mask = try WinogradPruning.winogradDomainMask(weight: q, sparsity: 4.0 / 36, importance: f)
        let values = mask.scalars
        #expect(values.filter { $0 == 0 }.count == 2 * 3 * 4)
        for filter in 0..<6 {
            for p in 0..<36 { #expect((values[filter * 36 + p] == 0) == (f[p] == 1), "position \(p)") }
        }
        let plain = try WinogradPruning.winogradDomainMask(weight: testTensor([4, 4, 6, 6], seed: 72), sparsity: 0.6, importance: nil)
        #expect(plain.scalars.filter { $0 == 0 }.count == Int((0.6 * 576).rounded()))
        #expect(throws: PruningError.self) { try WinogradPruning.winogradDomainMask(weight: q, sparsity: 0.5, importance: [1, 2]) }
        #expect(throws: PruningError.self) { try WinogradPruning.structuredMask(weight: testTensor([2, 2, 5, 5], seed: 1), threshold: 1) }
    }

    @Test func conversionKeepsTheFunctionAndTheZeros() throws {
        var rng = RandomGenerator(seed: 73)
        let model = Sequential([
            Conv2D(inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, using: &rng), ReLU(),
            Conv2D(inChannels: 4, outChannels: 3, kernelSize: 3, padding: 1, using: &rng), MaxPool2D(kernelSize: 2),
            Conv2D(inChannels: 3, outChannels: 3, kernelSize: 3, stride: 2, using: &rng),
        ])
        let x = testTensor([2, 2, 9, 9], seed: 74)
        let conv = WinogradModel.convolutions(in: model)
        #expect(conv.map(\.name) == ["0", "2"], "the stride-2 convolution is not eligible")
        let p = conv[1].weight
        p.mask = try WinogradPruning.structuredMask(weight: p.value, winogradSparsity: 0.6).mask
        p.applyMask()
        let before = withoutGradient { model(x) }
        let spatialReport = WinogradModel.sparsity(of: model)
        #expect(WinogradModel.convert(model) == ["0", "2"])
        let after = withoutGradient { model(x) }
        #expect(allClose(after.scalars, before.scalars, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
        let winograd = try #require(model.layers[2] as? WinogradConv2D)
        #expect(winograd.weight.mask?.scalars == winograd.weight.value.scalars.map { $0 == 0 ? 0 : 1 })
        let report = WinogradModel.sparsity(of: model)
        #expect(report.layers.map(\.zeros) == spatialReport.layers.map(\.zeros) && report.layers[1].sparsity >= 0.6)
        #expect(report.overall == report.layers[1].sparsity, "layers at ≤ 5% are left out of the overall figure")
    }

    @Test func gradientScaleMultipliesTheWinogradGradient() {
        var rng = RandomGenerator(seed: 75)
        let layer = WinogradConv2D(inChannels: 2, outChannels: 3, transform: .f2x3, using: &rng)
        let x = testTensor([1, 2, 5, 5], seed: 76)
        layer(x).sum().backward()
        let plain = layer.weight.grad!.scalars
        layer.zeroGrad()
        layer.gradientScale = WinogradPruning.gradientScale(.f2x3, exponent: 1.5)
        layer(x).sum().backward()
        let f = WinogradTransform.f2x3.importanceFactors
        let expected = plain.enumerated().map { $0.element * Float(pow(Double(f[$0.offset % 16]), -1.5)) }
        #expect(allClose(layer.weight.grad!.scalars, expected, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
    }

    @Test func sparseExecutionRunsWinogradLayersSparseWithTheSameOutput() {
        var rng = RandomGenerator(seed: 77)
        let layer = WinogradConv2D(inChannels: 8, outChannels: 8, using: &rng)
        layer.weight.mask = try! WinogradPruning.winogradDomainMask(weight: layer.weight.value, sparsity: 0.8, importance: nil)
        layer.weight.applyMask()
        let model = Sequential([layer, ReLU(), Flatten()])
        let x = testTensor([2, 8, 12, 12], seed: 78)
        let expected = withoutGradient { model(x) }
        let inference = SparseExecution.optimize(model, input: x, budget: 0.02)
        let report = inference.report
        #expect(["winograd-dense", "winograd-sparse"].contains(report.layers[0].chosen))
        let denseAlgorithms = Conv2DAlgorithm.allCases.map { "dense \($0.rawValue)" }
        #expect(Set(report.layers[0].paths.keys) == Set(["dense", "winograd-dense", "winograd-sparse"] + denseAlgorithms))
        #expect(abs(report.layers[0].sparsity - 0.8) < 1e-3)
        #expect(allClose(inference(x).scalars, expected.scalars, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
        let twin = SparseWinogradConv2D(layer)
        #expect(allClose(twin(x).scalars, withoutGradient { layer(x) }.scalars, relativeTolerance: 1e-5, absoluteTolerance: 1e-5))
    }
}
