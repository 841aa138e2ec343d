import CoppiceKernels

/// The algorithms that can run a 2-D convolution, each stating which geometries it supports.
public enum Conv2DAlgorithm: String, CaseIterable, Sendable {
    case im2colGemm, direct
    /// Winograd F(2×2,3×3) and F(4×4,3×3) (Lavin & Gray 2016), forward and backward through the
    /// Winograd domain; 3×3, stride 1, dilation 1 only.
    case winogradF2x3, winogradF4x3

    public func supports(_ g: Conv2DGeometry) -> Bool {
        switch self {
        case .im2colGemm: g.isValid
        case .direct: Conv2DDirect.supports(g)
        case .winogradF2x3, .winogradF4x3: Conv2DWinograd.supports(g)
        }
    }

    /// The algorithm used when none is requested, by where each measured fastest (`coppice bench
    /// conv`/`engine`, `benchmarks/pytorch_conv.py`; AMD EPYC Zen 3, AVX2, 2 threads, plain build):
    /// - 3×3 stride-1 layers of ≥ 16 input and output channels go through the Winograd domain, which
    ///   does 4× (F(4×4)) or 2.25× (F(2×2)) fewer multiplies than spatial convolution: F(4×4,3×3)
    ///   forward 19.6 ms against im2col's 33.7 ms and PyTorch's 25.3 ms on 64→64 32×32 N=64 (forward +
    ///   backward 59 ms, 108 ms, 115 ms). F(2×2) where there are fewer than 16 F(4×4) tiles (an 8×8 map
    ///   at batch 1), as F(4×4)'s tile lanes then run mostly empty (256→256: 0.33 against 0.53 ms).
    ///   The transforms cost accuracy: on 64 channels F(4×4)'s largest error is 6.5e-6 of the output's
    ///   scale against 4.9e-7 for im2col (`ConvolutionPolicyTests`); pass `.im2colGemm` or `.direct`
    ///   for spatial arithmetic.
    /// - Other stride-1 layers with few input channels (the first layer) run the direct kernel, 1.1-3×
    ///   faster there than im2col, whose K dimension is then only C·R·S; AVX-512 CPUs run it wherever it
    ///   applies (its 16 accumulators fit their 32 registers).
    /// - Everything else is im2col + GEMM.
    public static func automatic(for g: Conv2DGeometry) -> Conv2DAlgorithm {
        if Conv2DWinograd.supports(g) && g.inChannels >= 16 && g.outChannels >= 16 {
            let tilesF4 = g.batch * ((g.outHeight + 3) / 4) * ((g.outWidth + 3) / 4)
            return tilesF4 >= 16 ? .winogradF4x3 : .winogradF2x3
        }
        let wide = CPU.isa >= .avx512 || isWideVectorTarget
        return Conv2DDirect.supports(g) && (wide || g.inChannels <= 4) ? .direct : .im2colGemm
    }
}
