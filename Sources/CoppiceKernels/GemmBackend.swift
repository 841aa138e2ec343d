#if !canImport(Accelerate)
import CCBLAS
#endif
import CCPUDispatch
import Foundation

/// The library behind `Gemm`'s products, chosen once per process. OpenBLAS (DYNAMIC_ARCH) picks its
/// kernels from a table of CPU models, and one that does not know the CPU runs its oldest kernels:
/// Debian's 0.3.21 runs Prescott's SSE3 code on recent Intel Xeons (Prescott-core GEMM measured
/// 2.2-4.2× slower than BLIS on an AMD EPYC Zen 3, docs/results/cpu-dispatch.md). Such a fallback core
/// on a CPU with AVX2 switches the products to BLIS (chosen by CPUID features) where it is installed,
/// and is reported on standard error where it is not, never silently. `COPPICE_GEMM=openblas|blis`
/// overrides the choice.
public enum GemmBackend: String, Sendable, CaseIterable {
    case openBLAS = "openblas", blis, accelerate

    /// OpenBLAS cores with AVX2+FMA kernels; any other core on an AVX2 CPU is a fallback.
    static let modernOpenBLASCores: Set<String> = [
        "haswell", "skylakex", "cooperlake", "sapphirerapids", "zen", "excavator", "armv8", "neoversen1", "neoversen2", "neoversev1",
    ]

    /// OpenBLAS's kernel set for this CPU (its `openblas_get_corename`).
    public static let openBLASCore: String = {
        #if canImport(Accelerate)
        return ""
        #else
        return openblas_get_corename().map { String(cString: $0) } ?? ""
        #endif
    }()

    /// Whether OpenBLAS runs kernels below what this CPU can do.
    public static var openBLASCoreIsFallback: Bool {
        isFallback(core: openBLASCore, isa: CPU.supportedISA)
    }

    /// Whether OpenBLAS `core` is below what a CPU at `isa` can run.
    public static func isFallback(core: String, isa: CPU.ISALevel) -> Bool {
        isa >= .avx2 && !modernOpenBLASCores.contains(core.lowercased())
    }

    /// The backend in use.
    public static let current: GemmBackend = {
        #if canImport(Accelerate)
        return .accelerate
        #else
        let requested = ProcessInfo.processInfo.environment["COPPICE_GEMM"].flatMap(GemmBackend.init(rawValue:))
        if requested == .blis || (requested == nil && openBLASCoreIsFallback) {
            if coppice_blis_available() != 0 { return .blis }
            FileHandle.standardError.write(
                Data(
                    """
                    coppice: warning: OpenBLAS runs its \(openBLASCore) kernels on this CPU (\(CPU.model)), far below its \
                    \(CPU.supportedISA) peak; install BLIS (apt-get install libblis4) for fast products\n
                    """.utf8))
        }
        return .openBLAS
        #endif
    }()

    /// The kernel set behind the backend: OpenBLAS's core or BLIS's configuration.
    public static var kernel: String {
        switch current {
        case .openBLAS: openBLASCore
        case .blis: String(cString: coppice_blis_arch())
        case .accelerate: "Accelerate"
        }
    }
}
