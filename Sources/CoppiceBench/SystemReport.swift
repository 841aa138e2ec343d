import CoppiceKernels
import CoppiceRuns
import Foundation

/// What a speed number needs next to it (`coppice doctor`, and the head of `coppice bench engine`):
/// the CPU, the ISA level the kernels chose, the GEMM backend and its kernels, and this machine's real
/// ceilings — peak FP32 multiply-add throughput from an FMA probe on every thread at once, and the
/// memory bandwidth of a copy larger than the caches.
public struct SystemReport: Sendable {
    public var threads = ThreadPool.shared.threadCount
    public var seconds = 0.1

    public init() {}

    /// Peak FP32 FLOP/s of all pool threads running the FMA probe together at the kernels' ISA level:
    /// the best of three rounds (a peak, so a round slowed by a neighbour on a shared machine does not count).
    public func peakFLOPs() -> Double {
        let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        defer { rates.deallocate() }
        let seconds = self.seconds
        return (0..<3).map { _ in
            ThreadPool.shared.parallelFor(threads) { rates[$0] = CPU.peakFLOPs(seconds: seconds) }
            return rates.reduce(0, +)
        }.max()!
    }

    /// Bytes read plus written per second by a 256 MiB copy on every thread.
    public func memoryBandwidth() -> Double {
        let n = 32 << 20
        let source = UnsafeMutablePointer<Float>.allocate(capacity: n), target = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { source.deallocate(); target.deallocate() }
        source.initialize(repeating: 1, count: n)
        target.initialize(repeating: 0, count: n)
        let time = Stopwatch.median(budget: seconds * 5) { Elementwise.copy(source, target, count: n) }
        return 8 * Double(n) / time
    }

    /// The machine's ceilings, measured once for the rows and the summary.
    public struct Ceilings: Sendable {
        /// FP32 FLOP/s of all threads together, and of one.
        public var peakFLOPs: Double, threadPeakFLOPs: Double
        /// Bytes per second of a copy larger than the caches.
        public var memoryBandwidth: Double
    }

    public func measure() -> Ceilings {
        Ceilings(peakFLOPs: peakFLOPs(), threadPeakFLOPs: CPU.peakFLOPs(seconds: seconds), memoryBandwidth: memoryBandwidth())
    }

    /// The GEMM backend, its kernels and whether OpenBLAS would run a fallback core here.
    var gemm: String {
        "\(GemmBackend.current.rawValue) (\(GemmBackend.kernel))"
            + (GemmBackend.openBLASCoreIsFallback ? "; OpenBLAS core \(GemmBackend.openBLASCore) is a fallback here" : "")
    }

    /// The report as rows, with `ceilings` measured now unless given.
    public func rows(_ ceilings: Ceilings? = nil) -> [BenchmarkResult] {
        let c = ceilings ?? measure(), rows = WeightMatrix.rowKernels
        return [
            .init(suite: "system", case: "CPU \(CPU.model)", metric: "threads", unit: "count", value: Double(threads)),
            .init(
                suite: "system", case: "ISA \(CPU.isa) (supported \(CPU.supportedISA); \(CPU.features.joined(separator: " ")))",
                metric: "level", unit: "", value: Double(CPU.isa.rawValue)),
            .init(
                suite: "system", case: "LLM rows \(rows.level)\(rows.bf16DotProducts ? " with BF16 dot products" : "")", metric: "level",
                unit: "", value: Double(rows.level.rawValue)),
            .init(
                suite: "system", case: "GEMM " + gemm, metric: "OpenBLAS fallback core", unit: "", value: GemmBackend.openBLASCoreIsFallback ? 1 : 0),
            .init(
                suite: "system",
                case: "build: FMA \(isFusedMultiplyAddAvailable ? "on" : "off"), 512-bit vectors \(isWideVectorTarget ? "on" : "off")",
                metric: "Swift SIMD target", unit: "", value: isFusedMultiplyAddAvailable ? 1 : 0),
            .init(
                suite: "ceiling", case: "peak FP32 FMA probe (\(threads) threads)", metric: "throughput", unit: "GFLOP/s", value: c.peakFLOPs / 1e9),
            .init(suite: "ceiling", case: "peak FP32 FMA probe (1 thread)", metric: "throughput", unit: "GFLOP/s", value: c.threadPeakFLOPs / 1e9),
            .init(suite: "ceiling", case: "memory copy 256 MiB", metric: "bandwidth", unit: "GB/s", value: c.memoryBandwidth / 1e9),
        ]
    }

    /// The report in one line, for the head of a benchmark's output.
    public func summary() -> String {
        let c = measure()
        return String(
            format: "%@, %d threads, ISA %@, GEMM %@, peak %.0f GFLOP/s (FMA probe), memory %.1f GB/s",
            CPU.model, threads, CPU.isa.description, gemm, c.peakFLOPs / 1e9, c.memoryBandwidth / 1e9)
    }
}
