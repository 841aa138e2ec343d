import CoppiceKernels
import CoppiceTestSupport
import Testing

@Suite struct ConvolutionTests {
    static let geometries: [Conv2DGeometry] = [
        .init(batch: 1, inChannels: 1, outChannels: 1, height: 1, width: 1, kernelHeight: 1, kernelWidth: 1),
        .init(batch: 2, inChannels: 3, outChannels: 5, height: 7, width: 9, kernelHeight: 3, kernelWidth: 3, padding: (1, 1)),
        .init(batch: 3, inChannels: 2, outChannels: 7, height: 13, width: 11, kernelHeight: 3, kernelWidth: 3),
        .init(batch: 1, inChannels: 4, outChannels: 3, height: 33, width: 17, kernelHeight: 3, kernelWidth: 3, padding: (2, 2)),
        .init(batch: 2, inChannels: 3, outChannels: 4, height: 9, width: 10, kernelHeight: 3, kernelWidth: 2, stride: (2, 3), padding: (1, 0)),
        .init(batch: 2, inChannels: 2, outChannels: 3, height: 11, width: 11, kernelHeight: 3, kernelWidth: 3, padding: (2, 2), dilation: (2, 2)),
        .init(batch: 5, inChannels: 6, outChannels: 2, height: 5, width: 4, kernelHeight: 1, kernelWidth: 1),
        .init(batch: 4, inChannels: 17, outChannels: 9, height: 6, width: 35, kernelHeight: 5, kernelWidth: 5, padding: (2, 2)),
    ]

    @Test(arguments: geometries)
    func im2colForwardMatchesReference(g: Conv2DGeometry) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 20)
        let w = testValues(g.outChannels * g.patchSize, seed: 21), b = testValues(g.outChannels, seed: 22)
        let outCount = g.batch * g.outChannels * g.outPlane
        var fast = [Float](repeating: 0, count: outCount), slow = fast
        Conv2DIm2Col.forward(x, w, bias: b, &fast, g)
        Conv2DReference.forward(x, w, bias: b, &slow, g)
        #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
        Conv2DIm2Col.forward(x, w, bias: nil, &fast, g)
        Conv2DReference.forward(x, w, bias: nil, &slow, g)
        #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
    }

    @Test(arguments: geometries.filter(Conv2DDirect.supports))
    func directForwardMatchesReference(g: Conv2DGeometry) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 23)
        let w = testValues(g.outChannels * g.patchSize, seed: 24), b = testValues(g.outChannels, seed: 25)
        var fast = [Float](repeating: 0, count: g.batch * g.outChannels * g.outPlane), slow = fast
        Conv2DDirect.forward(x, w, bias: b, &fast, g)
        Conv2DReference.forward(x, w, bias: b, &slow, g)
        #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
    }

    typealias BackwardData = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Conv2DGeometry) -> Void
    typealias BackwardWeights = (
        UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
        UnsafeMutablePointer<Float>?, Conv2DGeometry
    ) -> Void

    /// Both backward passes of one implementation against the reference on geometry `g`.
    func checkBackward(
        _ g: Conv2DGeometry, data: BackwardData, weights: BackwardWeights, seed: UInt64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: seed)
        let w = testValues(g.outChannels * g.patchSize, seed: seed + 1)
        let gy = testValues(g.batch * g.outChannels * g.outPlane, seed: seed + 2)
        var gx = [Float](repeating: 0, count: x.count), gxSlow = gx
        data(gy, w, &gx, g)
        Conv2DReference.backwardData(gy, w, &gxSlow, g)
        #expect(allClose(gx, gxSlow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), sourceLocation: sourceLocation)
        var gw = [Float](repeating: 0, count: w.count), gwSlow = gw
        var gb = [Float](repeating: 0, count: g.outChannels), gbSlow = gb
        weights(x, gy, &gw, &gb, g)
        Conv2DReference.backwardWeights(x, gy, &gwSlow, gradBias: &gbSlow, g)
        #expect(allClose(gw, gwSlow, relativeTolerance: 1e-4, absoluteTolerance: 1e-3), sourceLocation: sourceLocation)
        #expect(allClose(gb, gbSlow, relativeTolerance: 1e-4, absoluteTolerance: 1e-3), sourceLocation: sourceLocation)
    }

    @Test(arguments: geometries.filter(Conv2DDirect.supports))
    func directBackwardPassesMatchReference(g: Conv2DGeometry) {
        checkBackward(
            g, data: { Conv2DDirect.backwardData($0, $1, $2, $3) },
            weights: { Conv2DDirect.backwardWeights($0, $1, $2, gradBias: $3, $4) }, seed: 31)
    }

    @Test func directKernelCoversSingleImagesAndChannelTails() {
        let g = Conv2DGeometry(batch: 1, inChannels: 5, outChannels: 10, height: 19, width: 23, kernelHeight: 3, kernelWidth: 3, padding: (1, 1))
        let x = testValues(g.inChannels * g.inPlane, seed: 34), w = testValues(g.outChannels * g.patchSize, seed: 35)
        var fast = [Float](repeating: 0, count: g.outChannels * g.outPlane), slow = fast
        Conv2DDirect.forward(x, w, bias: nil, &fast, g)
        Conv2DReference.forward(x, w, bias: nil, &slow, g)
        #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
    }

    @Test(arguments: geometries)
    func backwardPassesMatchReference(g: Conv2DGeometry) {
        checkBackward(
            g, data: { Conv2DIm2Col.backwardData($0, $1, $2, $3) },
            weights: { Conv2DIm2Col.backwardWeights($0, $1, $2, gradBias: $3, $4) }, seed: 26)
    }

    @Test func unfoldAndFoldAreAdjoint() {
        // ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩ for any x and c.
        let g = Conv2DGeometry(
            batch: 1, inChannels: 3, outChannels: 1, height: 8, width: 7, kernelHeight: 3, kernelWidth: 2,
            stride: (2, 1), padding: (1, 1), dilation: (1, 2))
        let x = testValues(g.inChannels * g.inPlane, seed: 29), c = testValues(g.patchSize * g.outPlane, seed: 30)
        var cols = [Float](repeating: 0, count: c.count), folded = [Float](repeating: 0, count: x.count)
        Im2Col.unfold(x, g, &cols)
        Im2Col.fold(c, g, &folded)
        let left = zip(cols, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(x, folded).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(Swift.abs(left - right) < 1e-4)
    }
}

@Suite struct PoolingAndEmbeddingTests {
    @Test func maxPoolPicksWindowMaximaAndRoutesGradients() {
        let g = Conv2DGeometry(batch: 1, inChannels: 1, outChannels: 1, height: 3, width: 4, kernelHeight: 2, kernelWidth: 2, stride: (2, 2))
        let x: [Float] = [
            1, 5, 2, 0,
            3, 4, 8, 1,
            9, 9, 9, 9,
        ]
        var y = [Float](repeating: 0, count: 2), argmax = [Int32](repeating: 0, count: 2)
        Pooling.maxForward(x, &y, argmax: &argmax, g)
        #expect(y == [5, 8] && argmax == [1, 6])
        var gx = [Float](repeating: 7, count: 12)
        Pooling.maxBackward([10, 20], argmax: argmax, &gx, g)
        #expect(gx == [0, 10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0])
    }

    @Test(arguments: [(3, 17, 35), (2, 28, 28), (5, 7, 9), (1, 14, 40)])
    func inferenceMaxPoolMatchesTheTrainingPathAtEveryLevel(planes: Int, height: Int, width: Int) {
        for (kernel, stride) in [(2, 2), (3, 2)] {
            let g = Conv2DGeometry(
                batch: 1, inChannels: planes, outChannels: planes, height: height, width: width, kernelHeight: kernel, kernelWidth: kernel,
                stride: (stride, stride))
            var x = testValues(planes * height * width, seed: 33)
            x[5] = .nan
            x[x.count - 2] = .nan
            var expected = [Float](repeating: 0, count: planes * g.outPlane), argmax = [Int32](repeating: 0, count: expected.count)
            Pooling.maxForward(x, &expected, argmax: &argmax, g)
            for level in CPU.ISALevel.allCases where level <= CPU.supportedISA {
                var y = [Float](repeating: -1, count: expected.count)
                Pooling.maxForward(x, &y, g, level: level)
                #expect(zip(y, expected).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(level) \(kernel)×\(kernel) on \(height)×\(width)")
            }
        }
    }

    @Test func averagePoolCountsPaddingAsZeros() {
        let g = Conv2DGeometry(
            batch: 1, inChannels: 1, outChannels: 1, height: 2, width: 2, kernelHeight: 2, kernelWidth: 2,
            stride: (1, 1), padding: (1, 1))
        let x: [Float] = [1, 2, 3, 4]
        var y = [Float](repeating: 0, count: 9)
        Pooling.averageForward(x, &y, g)
        #expect(y == [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1])
    }

    @Test func embeddingBagMatchesReferenceAndGatherCopiesRows() {
        let (rows, d) = (11, 7)
        let table = testValues(rows * d, seed: 31)
        let indices: [Int32] = [3, 0, 10, 3, 5, 5, 1]
        let offsets: [Int32] = [0, 2, 2, 6]
        for mode in [EmbeddingKernels.Mode.sum, .mean] {
            var fast = [Float](repeating: 0, count: 4 * d), slow = fast
            EmbeddingKernels.forward(table, dimension: d, indices: indices, count: indices.count, offsets: offsets, bags: 4, mode: mode, &fast)
            EmbeddingKernels.reference(table, dimension: d, indices: indices, count: indices.count, offsets: offsets, bags: 4, mode: mode, &slow)
            #expect(allClose(fast, slow))
            #expect(fast[d..<(2 * d)].allSatisfy { $0 == 0 }, "an empty bag is zeros")
        }
        // Enough bags that the rows of bags ahead are prefetched, one to three rows each.
        let manyOffsets = (0..<40).map { Int32($0 * 2 - $0 / 3) }, manyIndices = (0..<70).map { Int32(($0 * 7) % rows) }
        for mode in [EmbeddingKernels.Mode.sum, .mean] {
            var fast = [Float](repeating: .nan, count: 40 * d), slow = fast
            EmbeddingKernels.forward(table, dimension: d, indices: manyIndices, count: 70, offsets: manyOffsets, bags: 40, mode: mode, &fast)
            EmbeddingKernels.reference(table, dimension: d, indices: manyIndices, count: 70, offsets: manyOffsets, bags: 40, mode: mode, &slow)
            #expect(allClose(fast, slow))
        }
        var gathered = [Float](repeating: 0, count: indices.count * d)
        EmbeddingKernels.gather(table, dimension: d, indices: indices, count: indices.count, &gathered)
        #expect(Array(gathered[(2 * d)..<(3 * d)]) == Array(table[(10 * d)..<(11 * d)]))
    }
}
