import CCPUDispatch

/// The CPU this process runs on, as the dispatched kernels see it: features from CPUID (with the OS's
/// support for the vector state), and the ISA level chosen once from them, never from compiler flags.
public enum CPU {
    /// The levels the dispatched kernels are written for, lowest first.
    public enum ISALevel: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
        case generic, avx2, avx512, avx512VNNI

        public var description: String { ["generic", "avx2", "avx512", "avx512-vnni"][rawValue] }

        public static func < (a: ISALevel, b: ISALevel) -> Bool { a.rawValue < b.rawValue }
    }

    /// The CPU's name (the CPUID brand string).
    public static let model: String = {
        var buffer = [CChar](repeating: 0, count: 64)
        coppice_cpu_brand(&buffer, Int32(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// The names of the vector features the hardware and OS offer (AMX only where Linux granted it).
    public static let features: [String] = {
        let f = coppice_cpu_detect()
        let named: [(Int32, String)] = [
            (f.avx2, "avx2"), (f.fma, "fma"), (f.f16c, "f16c"), (f.avx512f, "avx512f"), (f.avx512bw, "avx512bw"),
            (f.avx512vl, "avx512vl"), (f.avx512dq, "avx512dq"), (f.avx512vnni, "avx512vnni"), (f.avx512bf16, "avx512bf16"),
            (f.avx512fp16, "avx512fp16"), (f.avx512vbmi2, "avx512vbmi2"), (f.amx, "amx"), (f.neon, "neon"),
        ]
        return named.filter { $0.0 != 0 }.map(\.1)
    }()

    /// The highest level the hardware supports.
    public static var supportedISA: ISALevel { ISALevel(rawValue: Int(coppice_isa_hardware())) ?? .generic }

    /// The level the kernels use: the supported one, capped by the environment variable `COPPICE_ISA`
    /// (generic, avx2, avx512, avx512-vnni), e.g. to run the AVX2 kernels on an AVX-512 machine.
    public static var isa: ISALevel { ISALevel(rawValue: Int(coppice_isa())) ?? .generic }

    /// Peak FP32 multiply-add throughput of one thread at `level` (default: the level in use), in
    /// FLOP/s, measured by independent FMA chains for about `seconds`.
    public static func peakFLOPs(level: ISALevel? = nil, seconds: Double = 0.05) -> Double {
        let level = Int32((level ?? isa).rawValue)
        let rate = coppice_fma_probe(level, 100_000)
        return coppice_fma_probe(level, max(100_000, Int(rate * seconds / 200)))
    }
}
