import CoppiceKernels
import CoppiceTensor
import CoppiceTestSupport
import Testing

/// Every differentiable op against central finite differences (see `GradientCheck`).
@Suite struct GradientTests {
    func check(
        _ inputs: [Tensor], epsilon: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
        sourceLocation: SourceLocation = #_sourceLocation, _ f: @escaping ([Tensor]) -> Tensor
    ) {
        let bad = GradientCheck.mismatches(inputs, epsilon: epsilon, relativeTolerance: rtol, absoluteTolerance: atol, f)
        #expect(bad.isEmpty, "\(bad.prefix(4))", sourceLocation: sourceLocation)
    }

    let a = testTensor([3, 4], seed: 1)
    let b = testTensor([3, 4], seed: 2)
    let row = testTensor([4], seed: 3)
    let column = testTensor([3, 1], seed: 4)

    @Test func arithmeticWithBroadcasting() {
        check([a, b]) { $0[0] + $0[1] }
        check([a, row]) { $0[0] - $0[1] }
        check([a, column]) { $0[0] * $0[1] }
        check([a, row + 3]) { $0[0] / $0[1] }
        check([column, row]) { $0[0] * $0[1] + $0[1] }
        check([a]) { -$0[0] * 3 + 1 }
        check([a]) { 2 / ($0[0] + 3) - 1 }
        check([a + 2]) { $0[0].raised(to: 2.5) }
        check([a, b]) { maximum($0[0], $0[1]) + minimum($0[0], $0[1] * 2) }
    }

    @Test func elementwiseFunctions() {
        check([a * 3]) { $0[0].relu() }
        check([a * 3]) { $0[0].sigmoid() }
        check([a * 2]) { $0[0].tanh() }
        check([a]) { $0[0].exp() }
        check([a + 2]) { $0[0].log() }
        check([a + 2]) { $0[0].squareRoot() }
        check([a]) { $0[0].squared() }
        check([a]) { $0[0].abs() }
        check([a * 3]) { $0[0].silu() }
        check([a * 3]) { $0[0].gelu() }
        check([a * 2]) { $0[0].clamped(to: -0.5...0.7) }
    }

    @Test func shapeOperations() {
        let t = testTensor([2, 3, 4], seed: 5)
        check([t]) { $0[0].reshaped([6, -1]) * testTensor([6, 4], seed: 6) }
        check([t]) { $0[0].permuted([2, 0, 1]) * testTensor([4, 2, 3], seed: 7) }
        check([t]) { $0[0].transposed() * testTensor([2, 4, 3], seed: 8) }
        check([t]) { $0[0].sliced(axis: 1, 1..<3) * testTensor([2, 2, 4], seed: 9) }
        check([column]) { $0[0].expanded(to: [3, 5]) * testTensor([3, 5], seed: 10) }
        check([row]) { $0[0].unsqueezed(0).squeezed(0).unsqueezed(1) * testTensor([4, 2], seed: 11) }
        check([t]) { $0[0].flattened(from: 1) * testTensor([2, 12], seed: 12) }
        check([t]) { $0[0].transposed(0, 2).contiguous() * testTensor([4, 3, 2], seed: 13) }
    }

    @Test func reductions() {
        let t = testTensor([2, 3, 4], seed: 14)
        check([t]) { $0[0].sum(alongAxes: [0, 2]) }
        check([t]) { $0[0].sum(alongAxis: 1, keepingDimensions: true) * testTensor([2, 1, 4], seed: 15) }
        check([t]) { $0[0].sum() }
        check([t]) { $0[0].mean(alongAxes: [1]) }
        check([t]) { $0[0].mean() }
        check([t]) { $0[0].max(alongAxis: 2) }
        check([t]) { $0[0].min(alongAxis: 0, keepingDimensions: true) }
    }

    @Test func softmaxFamily() {
        check([a * 3]) { $0[0].softmax() }
        check([a * 3]) { $0[0].logSoftmax() }
    }

    @Test func matrixProducts() {
        let x = testTensor([5, 3], seed: 16), w = testTensor([3, 4], seed: 17)
        check([x, w]) { matmul($0[0], $0[1]) }
        check([x, w]) { matmul($0[1].transposed(), $0[0].transposed()) }
        let batchA = testTensor([2, 5, 3], seed: 18), batchB = testTensor([2, 3, 4], seed: 19)
        check([batchA, batchB]) { matmul($0[0], $0[1]) }
        check([batchA, w]) { matmul($0[0], $0[1]) }
        let weight = testTensor([4, 3], seed: 20), bias = testTensor([4], seed: 21)
        check([x, weight, bias]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        check([x, weight]) { linear($0[0], weight: $0[1], bias: nil) }
        check([testTensor([1, 3], seed: 22), weight]) { linear($0[0], weight: $0[1], bias: nil) }
    }

    @Test(arguments: Conv2DAlgorithm.allCases)
    func convolution(algorithm: Conv2DAlgorithm) {
        let x = testTensor([2, 3, 6, 5], seed: 23), w = testTensor([4, 3, 3, 3], seed: 24), bias = testTensor([4], seed: 25)
        check([x, w, bias]) { conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 1), algorithm: algorithm) }
        check([x, w]) { conv2d($0[0], weight: $0[1], algorithm: algorithm) }
    }

    @Test(arguments: [WinogradTransform.f2x3, .f4x3])
    func winogradLayer(transform: WinogradTransform) {
        // Odd sizes: the last tiles are cropped.
        let x = testTensor([2, 3, 7, 5], seed: 60), bias = testTensor([4], seed: 62)
        let q = testTensor([4, 3, transform.n, transform.n], seed: 61) * 0.3
        check([x, q, bias]) { winogradConv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 1), transform: transform) }
        check([x, q]) { winogradConv2d($0[0], weight: $0[1], transform: transform) }
    }

    @Test func winogradLayerOfConvertedWeightsIsTheConvolution() {
        let x = testTensor([2, 3, 9, 6], seed: 63), w = testTensor([5, 3, 3, 3], seed: 64)
        let spatial = conv2d(x, weight: w, padding: (1, 1), algorithm: .im2colGemm)
        for t in [WinogradTransform.f2x3, .f4x3] {
            let winograd = winogradConv2d(x, weight: winogradWeights(w, transform: t), padding: (1, 1), transform: t)
            #expect(allClose(winograd.scalars, spatial.scalars, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
        }
    }

    @Test func winogradFallsBackWhereItDoesNotApply() {
        let x = testTensor([1, 2, 7, 8], seed: 65), w = testTensor([3, 2, 3, 3], seed: 66)
        #expect(
            !Conv2DAlgorithm.winogradF4x3.supports(Conv2DGeometry(input: x.shape, weight: w.shape, stride: (2, 2), padding: (1, 1), dilation: (1, 1)))
        )
        let fallback = conv2d(x, weight: w, stride: (2, 2), padding: (1, 1), algorithm: .winogradF4x3)
        let reference = conv2d(x, weight: w, stride: (2, 2), padding: (1, 1), algorithm: .im2colGemm)
        #expect(allClose(fallback.scalars, reference.scalars))
    }

    @Test func convolutionWithStrideAndDilation() {
        let x = testTensor([1, 2, 7, 8], seed: 26), w = testTensor([3, 2, 3, 2], seed: 27)
        check([x, w]) { conv2d($0[0], weight: $0[1], stride: (2, 1), padding: (1, 1), dilation: (1, 2)) }
    }

    @Test func pooling() {
        // Distinct values keep the max away from ties, where the derivative is undefined.
        let x = Tensor((0..<(2 * 2 * 5 * 6)).map { Float(($0 * 37) % 120) / 10 }).reshaped([2, 2, 5, 6])
        check([x], epsilon: 1e-3) { maxPool2d($0[0], kernelSize: (2, 2)) }
        check([x], epsilon: 1e-3) { maxPool2d($0[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)) }
        check([x]) { avgPool2d($0[0], kernelSize: (2, 3), stride: (1, 2), padding: (1, 1)) }
        check([x]) { globalAveragePool2d($0[0]) }
    }

    @Test func embeddings() throws {
        let table = testTensor([6, 3], seed: 28)
        check([table]) { try! $0[0].embedding([4, 0, 4, 5]) }
        check([table]) { try! $0[0].embeddingBag([1, 2, 2, 5, 0], offsets: [0, 2, 2], mode: .sum) }
        check([table]) { try! $0[0].embeddingBag([1, 2, 2, 5, 0], offsets: [0, 3], mode: .mean) }
    }

    @Test func joiningAndIndexing() throws {
        let x = testTensor([2, 3], seed: 29), y = testTensor([2, 2], seed: 30)
        check([x, y]) { concatenate([$0[0], $0[1]], alongAxis: 1) }
        check([x, x * 2]) { stack([$0[0], $0[1]], alongAxis: 1) }
        check([x]) { $0[0].split(sizes: [1, 2], alongAxis: 1)[1] * 3 }
        check([x]) { try! $0[0].indexSelect([2, 0, 2], alongAxis: 1) }
        check([x]) { try! $0[0].gather(alongAxis: 1, indices: [0, 2, 1, 1], indexShape: [2, 2]) }
        let condition = Tensor([1, 0, 1]).reshaped([1, 3])
        check([x, y.sliced(axis: 1, 0..<1)]) { select(where: condition, $0[0], $0[1]) }
    }
}
