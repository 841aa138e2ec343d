#if !canImport(Accelerate)
import CCBLAS
#endif
import CCPUDispatch
import Foundation

/// The library behind `Gemm`'s products, chosen once per process. OpenBLAS (DYNAMIC_ARCH) picks its
/// kernels from a table of CPU models, and one that does not know the CPU runs kernels below it:
/// Debian's 0.3.21 runs Prescott's SSE3 code on recent Intel Xeons (family 6 model 207), and BLIS 0.9
/// its AVX2 (haswell) kernels there. oneDNN generates its kernels from CPUID features, so where
/// OpenBLAS's core lacks the CPU's widest vectors the products go to oneDNN (on that Xeon, 1024³:
/// oneDNN 140 GFLOP/s on one thread, 80% of the FMA probe; BLIS 83; OpenBLAS 63 on two threads;
/// docs/results/intel-spr.md), else to BLIS, and a CPU left on a fallback core is reported on
/// standard error, never silently. `COPPICE_GEMM=openblas|blis|onednn` overrides the choice.
public enum GemmBackend: String, Sendable, CaseIterable {
    case openBLAS = "openblas", blis, oneDNN = "onednn", accelerate

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

    /// OpenBLAS cores with AVX-512 kernels.
    static let avx512OpenBLASCores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// Whether OpenBLAS runs kernels below what this CPU can do.
    public static var openBLASCoreIsFallback: Bool {
        isFallback(core: openBLASCore, isa: CPU.supportedISA)
    }

    /// Whether OpenBLAS `core` is below what a CPU at `isa` can run: no AVX2 kernels on an AVX2 CPU,
    /// or no AVX-512 kernels on an AVX-512 CPU.
    public static func isFallback(core: String, isa: CPU.ISALevel) -> Bool {
        let name = core.lowercased()
        if isa >= .avx512 { return !avx512OpenBLASCores.contains(name) }
        return isa >= .avx2 && !modernOpenBLASCores.contains(name)
    }

    /// The backend in use.
    public static let current: GemmBackend = {
        #if canImport(Accelerate)
        return .accelerate
        #else
        let requested = ProcessInfo.processInfo.environment["COPPICE_GEMM"].flatMap(GemmBackend.init(rawValue:))
        if requested == .oneDNN || (requested == nil && openBLASCoreIsFallback), coppice_onednn_available() != 0 {
            return .oneDNN
        }
        if requested == .blis || (requested == nil && openBLASCoreIsFallback) {
            if coppice_blis_available() != 0 { return .blis }
        }
        if requested != .openBLAS && openBLASCoreIsFallback {
            FileHandle.standardError.write(
                Data(
                    """
                    coppice: warning: OpenBLAS runs its \(openBLASCore) kernels on this CPU (\(CPU.model)), below its \
                    \(CPU.supportedISA) peak; install oneDNN (apt-get install libdnnl2) for fast products\n
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
        case .oneDNN: String(cString: coppice_onednn_isa())
        case .accelerate: "Accelerate"
        }
    }
}
