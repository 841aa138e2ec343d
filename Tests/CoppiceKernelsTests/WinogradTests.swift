import CoppiceKernels
import CoppiceTestSupport
import Testing

@Suite struct WinogradTests {
    static let geometries: [Conv2DGeometry] = [
        .init(batch: 1, inChannels: 1, outChannels: 1, height: 3, width: 3, kernelHeight: 3, kernelWidth: 3),
        .init(batch: 2, inChannels: 3, outChannels: 5, height: 7, width: 9, kernelHeight: 3, kernelWidth: 3, padding: (1, 1)),
        .init(batch: 1, inChannels: 4, outChannels: 3, height: 13, width: 11, kernelHeight: 3, kernelWidth: 3),
        .init(batch: 3, inChannels: 2, outChannels: 7, height: 10, width: 17, kernelHeight: 3, kernelWidth: 3, padding: (2, 2)),
    ]

    @Test(arguments: geometries)
    func bothTileSizesMatchDirectConvolution(g: Conv2DGeometry) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 40)
        let w = testValues(g.outChannels * g.patchSize, seed: 41), b = testValues(g.outChannels, seed: 42)
        var slow = [Float](repeating: 0, count: g.batch * g.outChannels * g.outPlane)
        Conv2DReference.forward(x, w, bias: b, &slow, g)
        for (transform, tolerance) in [(WinogradTransform.f2x3, Float(1e-5)), (.f4x3, 1e-4)] {
            var fast = [Float](repeating: .nan, count: slow.count)
            Conv2DWinograd.forward(x, w, bias: b, &fast, g, transform: transform)
            #expect(allClose(fast, slow, relativeTolerance: tolerance, absoluteTolerance: tolerance), "F(\(transform.m)×\(transform.m),3×3)")
        }
    }

    /// The dense F(4×4) path's tile transforms, dispatched C and the Swift twin, on the sparse
    /// kernel's geometries too (blocks that span images, cropped edges).
    @Test(arguments: geometries + fusedGeometries)
    func denseF4x3TransformsMatchDirectConvolutionAtEveryLevel(g: Conv2DGeometry) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 54)
        let w = testValues(g.outChannels * g.patchSize, seed: 55), b = testValues(g.outChannels, seed: 56)
        var slow = [Float](repeating: 0, count: g.batch * g.outChannels * g.outPlane)
        Conv2DReference.forward(x, w, bias: b, &slow, g)
        var q = [Float](repeating: 0, count: 36 * g.outChannels * g.inChannels)
        Conv2DWinograd.transformWeights(w, outChannels: g.outChannels, inChannels: g.inChannels, .f4x3, &q)
        let scale = slow.map(abs).max() ?? 1
        for level in CPU.ISALevel.allCases where level <= CPU.supportedISA {
            var fast = [Float](repeating: .nan, count: slow.count)
            Conv2DWinograd.forward(x, winogradWeights: q, bias: b, &fast, WinogradPlan(g, transform: .f4x3, level: level))
            let worst = zip(fast, slow).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5 * scale, "\(level) on \(g): largest difference \(worst) at output scale \(scale)")
        }
    }

    @Test func weightTransformIsGWGTransposed() {
        // A filter with a single 1 at the centre: U = G e₁₁ Gᵀ is the outer product of G's middle column.
        var w = [Float](repeating: 0, count: 9)
        w[4] = 1
        for t in [WinogradTransform.f2x3, .f4x3] {
            var u = [Float](repeating: 0, count: t.n * t.n)
            t.weightTile(w, &u)
            let column = (0..<t.n).map { t.G[$0 * 3 + 1] }
            #expect(allClose(u, column.flatMap { a in column.map { a * $0 } }))
        }
    }

    @Test(arguments: geometries)
    func backwardMatchesIm2colBackward(g: Conv2DGeometry) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 43)
        let w = testValues(g.outChannels * g.patchSize, seed: 44), dy = testValues(g.batch * g.outChannels * g.outPlane, seed: 45)
        var dxSlow = [Float](repeating: 0, count: x.count), dwSlow = [Float](repeating: 0, count: w.count)
        Conv2DIm2Col.backwardData(dy, w, &dxSlow, g)
        Conv2DIm2Col.backwardWeights(x, dy, &dwSlow, gradBias: nil, g)
        for t in [WinogradTransform.f2x3, .f4x3] {
            let plan = WinogradPlan(g, transform: t)
            var q = [Float](repeating: 0, count: plan.positions * g.outChannels * g.inChannels)
            Conv2DWinograd.transformWeights(w, outChannels: g.outChannels, inChannels: g.inChannels, t, &q)
            var v = [Float](repeating: .nan, count: plan.transformedCount(channels: g.inChannels))
            var y = [Float](repeating: .nan, count: dy.count)
            Conv2DWinograd.forward(x, winogradWeights: q, bias: nil, &y, plan, savedInput: &v)
            var dx = [Float](repeating: .nan, count: x.count), dq = [Float](repeating: .nan, count: q.count)
            Conv2DWinograd.backward(dy, winogradWeights: q, savedInput: v, plan, inputGradient: &dx, weightGradient: &dq)
            var dw = [Float](repeating: .nan, count: w.count)
            Conv2DWinograd.weightGradient(dq, outChannels: g.outChannels, inChannels: g.inChannels, t, &dw)
            #expect(allClose(dx, dxSlow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4), "F(\(t.m)) ∂x")
            #expect(allClose(dw, dwSlow, relativeTolerance: 1e-3, absoluteTolerance: 1e-3), "F(\(t.m)) ∂w")
        }
    }

    @Test(arguments: geometries)
    func sparseMatchesDenseOnTheSameWinogradWeights(g: Conv2DGeometry) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 46), b = testValues(g.outChannels, seed: 47)
        for t in [WinogradTransform.f2x3, .f4x3] {
            let plan = WinogradPlan(g, transform: t)
            var q = testValues(plan.positions * g.outChannels * g.inChannels, seed: 48)
            for i in q.indices where i % 10 < 7 { q[i] = 0 }
            let sparse = SparseWinogradWeights(winogradWeights: q, outChannels: g.outChannels, inChannels: g.inChannels, transform: t)
            #expect(sparse.densified() == q)
            var dense = [Float](repeating: .nan, count: g.batch * g.outChannels * g.outPlane), fast = dense
            Conv2DWinograd.forward(x, winogradWeights: q, bias: b, &dense, plan)
            Conv2DWinograd.forward(x, sparseWeights: sparse, bias: b, &fast, plan)
            // The fused F(4×4) kernel applies the transforms in another order: rounding of the output's scale.
            let scale = dense.map(abs).max() ?? 1
            let worst = zip(fast, dense).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6 * scale, "F(\(t.m)×\(t.m)): largest difference \(worst) at output scale \(scale)")
        }
    }

    /// The fused F(4×4) kernel's cases: one vector of tiles a block and few blocks (channels and
    /// filters split over threads), two and four vectors, blocks split over threads, more than 16
    /// filters (several passes), images that share a block, cropped edges and padding 0 to 2.
    static let fusedGeometries: [Conv2DGeometry] = [
        .init(batch: 1, inChannels: 5, outChannels: 7, height: 28, width: 28, kernelHeight: 3, kernelWidth: 3, padding: (1, 1)),
        .init(batch: 3, inChannels: 3, outChannels: 17, height: 14, width: 13, kernelHeight: 3, kernelWidth: 3, padding: (1, 1)),
        .init(batch: 2, inChannels: 3, outChannels: 18, height: 23, width: 29, kernelHeight: 3, kernelWidth: 3, padding: (1, 1)),
        .init(batch: 4, inChannels: 4, outChannels: 5, height: 30, width: 31, kernelHeight: 3, kernelWidth: 3),
        .init(batch: 3, inChannels: 9, outChannels: 33, height: 37, width: 36, kernelHeight: 3, kernelWidth: 3, padding: (2, 2)),
    ]

    @Test(arguments: fusedGeometries)
    func fusedSparseKernelMatchesThePortablePathWithBiasAndReLU(g: Conv2DGeometry) {
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 51), b = testValues(g.outChannels, seed: 52)
        let plan = WinogradPlan(g, transform: .f4x3)
        var q = testValues(plan.positions * g.outChannels * g.inChannels, seed: 53)
        for i in q.indices where (i * 7) % 10 < 7 { q[i] = 0 }
        for filter in 0..<g.outChannels where filter % 5 == 2 {  // filters with no nonzero at some positions
            for p in 0..<plan.positions where p % 3 == 0 { for c in 0..<g.inChannels { q[(p * g.outChannels + filter) * g.inChannels + c] = 0 } }
        }
        let sparse = SparseWinogradWeights(winogradWeights: q, outChannels: g.outChannels, inChannels: g.inChannels, transform: .f4x3)
        var dense = [Float](repeating: .nan, count: g.batch * g.outChannels * g.outPlane)
        Conv2DWinograd.forward(x, winogradWeights: q, bias: b, &dense, plan)
        let expected = dense.map { Swift.max($0, 0) }
        for level in CPU.ISALevel.allCases where level <= CPU.supportedISA {
            var fast = [Float](repeating: .nan, count: dense.count)
            Conv2DWinograd.forward(x, sparseWeights: sparse, bias: b, relu: true, &fast, plan, level: level)
            let scale = expected.map(abs).max() ?? 1
            let worst = zip(fast, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6 * scale, "\(level) on \(g): largest difference \(worst) at output scale \(scale)")
        }
    }

    @Test func largeInputsRunInSeveralCachedPasses() {
        // 2 × 64 × 64 tiles of 6×6 with 8 + 8 channels spill over one 4 MiB pass.
        let g = Conv2DGeometry(
            batch: 2, inChannels: 8, outChannels: 8, height: 255, width: 254, kernelHeight: 3, kernelWidth: 3,
            padding: (1, 1))
        #expect(Conv2DWinograd.tilesPerPass(WinogradPlan(g, transform: .f4x3)) < WinogradPlan(g, transform: .f4x3).tiles)
        let x = testValues(g.batch * g.inChannels * g.inPlane, seed: 49), w = testValues(g.outChannels * g.patchSize, seed: 50)
        var slow = [Float](repeating: 0, count: g.batch * g.outChannels * g.outPlane), fast = slow
        Conv2DIm2Col.forward(x, w, bias: nil, &slow, g)
        Conv2DWinograd.forward(x, w, bias: nil, &fast, g, transform: .f4x3)
        #expect(allClose(fast, slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
    }

    @Test func importanceFactorsAreThePapers() {
        // papers.md §1.5: a = √(42, 136, 136, 850, 850, 42) for F(4×4,3×3), F = D / min D.
        let f4 = WinogradTransform.f4x3.importanceFactors
        #expect(abs(f4[0] - 1) < 1e-6 && abs(f4[1] - 1.800) < 1e-3 && abs(f4[3] - 4.499) < 1e-3)
        #expect(abs(f4[3 * 6 + 3] - 20.238) < 1e-3 && abs(f4[1 * 6 + 1] - 3.238) < 1e-3 && abs(f4[35] - 1) < 1e-6)
        let f2 = WinogradTransform.f2x3.importanceFactors
        #expect(
            allClose(
                f2, [2, 2.828, 2.828, 2, 2.828, 4, 4, 2.828, 2.828, 4, 4, 2.828, 2, 2.828, 2.828, 2].map { $0 / 2 },
                relativeTolerance: 1e-3))
    }

    @Test func supportSetsAreCornersEdgesAndTheWholeKernel() {
        let sets = WinogradTransform.f4x3.supportSets
        #expect(Set(sets).count == 9)
        #expect(sets[0] == [0] && sets[5] == [2] && sets[30] == [6] && sets[35] == [8])
        #expect(sets[1] == [0, 1, 2] && sets[6] == [0, 3, 6] && sets[7] == Array(0..<9))
        #expect(sets.filter { $0.count == 9 }.count == 16)
        let small = WinogradTransform.f2x3.supportSets
        #expect(Set(small).count == 9 && small.filter { $0.count == 9 }.count == 4)
    }
}
