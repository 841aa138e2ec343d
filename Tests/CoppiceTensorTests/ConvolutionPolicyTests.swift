import CoppiceKernels
import CoppiceTensor
import CoppiceTestSupport
import Foundation
import Testing

/// What `conv2d` runs when no algorithm is requested, and how close that stays to spatial arithmetic.
@Suite struct ConvolutionPolicyTests {
    func geometry(_ c: Int, _ k: Int, size: Int, batch: Int, stride: Int = 1) -> Conv2DGeometry {
        Conv2DGeometry(
            batch: batch, inChannels: c, outChannels: k, height: size, width: size, kernelHeight: 3, kernelWidth: 3,
            stride: (stride, stride), padding: (1, 1))
    }

    @Test func automaticChoiceFollowsTheMeasurements() {
        #expect(Conv2DAlgorithm.automatic(for: geometry(64, 64, size: 32, batch: 64)) == .winogradF4x3)
        #expect(Conv2DAlgorithm.automatic(for: geometry(64, 128, size: 16, batch: 1)) == .winogradF4x3)
        // 4 F(4×4) tiles: F(2×2) fills its lanes.
        #expect(Conv2DAlgorithm.automatic(for: geometry(256, 256, size: 8, batch: 1)) == .winogradF2x3)
        #expect(Conv2DAlgorithm.automatic(for: geometry(3, 64, size: 32, batch: 32)) == .direct)
        #expect(Conv2DAlgorithm.automatic(for: geometry(64, 64, size: 32, batch: 1, stride: 2)) == .im2colGemm)
        let wide = CPU.isa >= .avx512 || isWideVectorTarget
        #expect(Conv2DAlgorithm.automatic(for: geometry(8, 8, size: 16, batch: 2)) == (wide ? .direct : .im2colGemm))
    }

    /// The Winograd default against spatial convolution in double precision: measured 6.5e-6 of the
    /// output's scale on 64 channels (F(4×4)), where im2col's FP32 rounding is 4.9e-7.
    @Test(arguments: [(64, 16, 2), (32, 8, 1)])
    func winogradDefaultStaysWithinSpatialRounding(channels: Int, size: Int, batch: Int) {
        let g = geometry(channels, channels, size: size, batch: batch)
        let x = testTensor([batch, channels, size, size], seed: 60), w = testTensor([channels, channels, 3, 3], seed: 61)
        let exact = Conv2DReferenceDouble.forward(x.scalars, w.scalars, g)
        let scale = exact.map(abs).max()!
        func error(_ algorithm: Conv2DAlgorithm?) -> Double {
            let y = conv2d(x, weight: w, padding: (1, 1), algorithm: algorithm).scalars
            return zip(y, exact).map { abs(Double($0) - $1) }.max()! / scale
        }
        let (automatic, spatial) = (error(nil), error(.im2colGemm))
        #expect(automatic < 2e-5 && spatial < 2e-6, "relative error: automatic \(automatic), im2col \(spatial)")
    }
}

/// Direct convolution in Double, the yardstick for FP32 algorithms' rounding.
enum Conv2DReferenceDouble {
    static func forward(_ x: [Float], _ w: [Float], _ g: Conv2DGeometry) -> [Double] {
        var y = [Double](repeating: 0, count: g.batch * g.outChannels * g.outPlane)
        for n in 0..<g.batch {
            for k in 0..<g.outChannels {
                for p in 0..<g.outHeight {
                    for q in 0..<g.outWidth {
                        var sum = 0.0
                        for c in 0..<g.inChannels {
                            for r in 0..<3 {
                                for s in 0..<3 {
                                    let (h, v) = (p * g.strideH - g.padH + r, q * g.strideW - g.padW + s)
                                    guard h >= 0, h < g.height, v >= 0, v < g.width else { continue }
                                    sum +=
                                        Double(x[((n * g.inChannels + c) * g.height + h) * g.width + v])
                                        * Double(w[(k * g.inChannels + c) * 9 + r * 3 + s])
                                }
                            }
                        }
                        y[((n * g.outChannels + k) * g.outHeight + p) * g.outWidth + q] = sum
                    }
                }
            }
        }
        return y
    }
}
