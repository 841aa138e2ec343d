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

    /// The algorithm used when none is requested: the direct kernel wherever it applies (stride 1) on
    /// AVX-512 CPUs (its C variant is chosen at run time; native AVX-512 builds also have the Swift
    /// one), im2col + GEMM elsewhere. `coppice bench engine` measures both on the same shape
    /// (3×3 64→64 32×32 N=64, forward + backward): with `-target-cpu native` on this AVX-512 machine
    /// 83 ms direct vs 98 ms im2col; with `haswell` (AVX2) the direct kernel's 16 wide accumulators
    /// spill and it took 198 ms vs 97 ms; without FMA it is slower still.
    public static func automatic(for g: Conv2DGeometry) -> Conv2DAlgorithm {
        Conv2DDirect.supports(g) && (CPU.isa >= .avx512 || isWideVectorTarget) ? .direct : .im2colGemm
    }
}
