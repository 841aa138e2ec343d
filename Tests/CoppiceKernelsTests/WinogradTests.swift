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
}
