import CoppiceKernels
import CoppiceNN
import CoppiceOptimizers
import CoppiceRuns
import CoppiceTensor
import Foundation

/// `coppice bench engine`: the engine's speed on fixed shapes, each next to this machine's ceilings
/// measured in the same run (the FMA probe's peak for compute, a memory copy for bandwidth; raw
/// multithreaded BLAS alongside), after the system report (CPU, ISA level, GEMM backend).
public struct EngineBenchmark {
    public var budget: Double
    public var threads: Int { ThreadPool.shared.threadCount }

    /// `budget`: seconds of timing per case (the median of the runs is reported).
    public init(budget: Double = 1.0) { self.budget = budget }

    public func run(progress: (String) -> Void = { _ in }) -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        progress("ceilings")
        var system = SystemReport()
        system.threads = threads
        let ceilings = system.measure()
        results += system.rows(ceilings)
        // Compute cases are reported as a fraction of the FMA probe's peak, not of a BLAS library's.
        let peak = ceilings.peakFLOPs / 1e9
        let ceiling = rawGemmGFLOPs(m: 1024, n: 1024, k: 1024, .none, .none)
        results.append(
            .init(
                suite: "ceiling",
                case: "\(GemmBackend.current.rawValue) sgemm 1024x1024x1024 (\(GemmBackend.current == .openBLAS ? threads : 1) threads)",
                metric: "throughput", unit: "GFLOP/s", value: ceiling))
        let bandwidth = copyBandwidth()
        results.append(.init(suite: "ceiling", case: "memory copy 16 MiB", metric: "bandwidth", unit: "GB/s", value: bandwidth))

        progress("gemm")
        let shapes: [(Int, Int, Int, Gemm.Transpose, Gemm.Transpose)] = [
            (1024, 1024, 1024, .none, .none),
            (128, 512, 512, .none, .none), (128, 512, 512, .none, .transposed), (128, 512, 512, .transposed, .none),
            (2048, 256, 512, .none, .none), (256, 1536, 512, .none, .none),
        ]
        for (m, n, k, ta, tb) in shapes {
            let name = "matmul \(ta == .none ? "N" : "T")\(tb == .none ? "N" : "T") m=\(m) n=\(n) k=\(k)"
            let seconds = tensorMatmulSeconds(m: m, n: n, k: k, ta, tb)
            let gflops = 2.0 * Double(m * n * k) / seconds / 1e9
            let raw = rawGemmGFLOPs(m: m, n: n, k: k, ta, tb)
            results += [
                .init(suite: "gemm", case: name, metric: "time", unit: "ms", value: seconds * 1e3),
                .init(suite: "gemm", case: name, metric: "throughput", unit: "GFLOP/s", value: gflops),
                .init(suite: "gemm", case: name, metric: "raw cblas_sgemm throughput", unit: "GFLOP/s", value: raw),
                .init(suite: "gemm", case: name, metric: "fraction of raw cblas_sgemm", unit: "ratio", value: gflops / raw),
                .init(suite: "gemm", case: name, metric: "fraction of peak", unit: "ratio", value: gflops / peak),
            ]
        }
        let gemv = gemvSeconds(4096)
        let gemvBytes = 4.0 * Double(4096 * 4096)
        results += [
            .init(suite: "gemm", case: "matmul GEMV 4096x4096", metric: "time", unit: "ms", value: gemv * 1e3),
            .init(suite: "gemm", case: "matmul GEMV 4096x4096", metric: "bandwidth", unit: "GB/s", value: gemvBytes / gemv / 1e9),
            .init(
                suite: "gemm", case: "matmul GEMV 4096x4096", metric: "fraction of ceiling", unit: "ratio", value: gemvBytes / gemv / 1e9 / bandwidth),
        ]

        progress("conv2d")
        let (forward, both) = convSeconds(algorithm: nil)
        let convFlops = 2.0 * Double(64 * 64 * 9 * 32 * 32 * 64)
        let convCase = "conv2d 3x3 64->64 32x32 N=64"
        results += [
            .init(suite: "conv2d", case: convCase + " forward", metric: "time", unit: "ms", value: forward * 1e3),
            .init(suite: "conv2d", case: convCase + " forward", metric: "throughput", unit: "GFLOP/s", value: convFlops / forward / 1e9),
            .init(
                suite: "conv2d", case: convCase + " forward", metric: "fraction of peak", unit: "ratio", value: convFlops / forward / 1e9 / peak
            ),
            .init(suite: "conv2d", case: convCase + " forward+backward", metric: "time", unit: "ms", value: both * 1e3),
            .init(suite: "conv2d", case: convCase + " forward+backward", metric: "throughput", unit: "GFLOP/s", value: 3 * convFlops / both / 1e9),
            .init(
                suite: "conv2d", case: convCase + " forward+backward", metric: "fraction of peak", unit: "ratio",
                value: 3 * convFlops / both / 1e9 / peak),
        ]
        for algorithm in Conv2DAlgorithm.allCases {
            let (forward, both) = convSeconds(algorithm: algorithm)
            let label = " (\(algorithm.rawValue))"
            results += [
                .init(suite: "conv2d", case: convCase + " forward" + label, metric: "time", unit: "ms", value: forward * 1e3),
                .init(suite: "conv2d", case: convCase + " forward" + label, metric: "throughput", unit: "GFLOP/s", value: convFlops / forward / 1e9),
                .init(suite: "conv2d", case: convCase + " forward+backward" + label, metric: "time", unit: "ms", value: both * 1e3),
                .init(
                    suite: "conv2d", case: convCase + " forward+backward" + label, metric: "throughput", unit: "GFLOP/s",
                    value: 3 * convFlops / both / 1e9),
            ]
        }

        progress("mlp")
        let step = mlpStepSeconds()
        let mlpFlops = 6.0 * 128 * Double(784 * 512 + 512 * 512 + 512 * 10)
        results += [
            .init(suite: "mlp", case: "train step 784-512-512-10 batch 128 SGD", metric: "time", unit: "ms", value: step * 1e3),
            .init(suite: "mlp", case: "train step 784-512-512-10 batch 128 SGD", metric: "throughput", unit: "GFLOP/s", value: mlpFlops / step / 1e9),
            .init(
                suite: "mlp", case: "train step 784-512-512-10 batch 128 SGD", metric: "fraction of peak", unit: "ratio",
                value: mlpFlops / step / 1e9 / peak),
        ]

        progress("elementwise")
        results += elementwise(bandwidth: bandwidth)
        return results
    }

    // MARK: Cases

    private func rawGemmGFLOPs(m: Int, n: Int, k: Int, _ ta: Gemm.Transpose, _ tb: Gemm.Transpose) -> Double {
        let a = filled(m * k), b = filled(k * n), c = filled(m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        let lda = ta == .none ? k : m, ldb = tb == .none ? n : k
        let seconds = BLASThreads.withBLASThreads(threads) {
            Stopwatch.median(budget: budget) {
                Gemm.blas(ta, tb, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, c, ldc: n)
            }
        }
        return 2.0 * Double(m * n * k) / seconds / 1e9
    }

    private func tensorMatmulSeconds(m: Int, n: Int, k: Int, _ ta: Gemm.Transpose, _ tb: Gemm.Transpose) -> Double {
        var rng = RandomGenerator(seed: 1)
        let a = ta == .none ? Tensor.normal([m, k], using: &rng) : Tensor.normal([k, m], using: &rng).transposed()
        let b = tb == .none ? Tensor.normal([k, n], using: &rng) : Tensor.normal([n, k], using: &rng).transposed()
        return Stopwatch.median(budget: budget) { _ = matmul(a, b) }
    }

    private func gemvSeconds(_ n: Int) -> Double {
        var rng = RandomGenerator(seed: 2)
        let a = Tensor.normal([n, n], using: &rng), x = Tensor.normal([n, 1], using: &rng)
        return Stopwatch.median(budget: budget) { _ = matmul(a, x) }
    }

    /// Forward, and forward + backward (input, weight and bias gradients), of a 3×3 64→64 layer.
    private func convSeconds(algorithm: Conv2DAlgorithm?) -> (Double, Double) {
        var rng = RandomGenerator(seed: 3)
        let layer = Conv2D(inChannels: 64, outChannels: 64, kernelSize: 3, padding: 1, using: &rng)
        layer.algorithm = algorithm
        let x = Tensor.normal([64, 64, 32, 32], using: &rng)
        let forward = Stopwatch.median(budget: budget) { withoutGradient { _ = layer(x) } }
        let input = x.requiringGrad()
        let seed = Tensor.ones([64, 64, 32, 32])
        let both = Stopwatch.median(budget: budget) {
            layer.zeroGrad()
            input.zeroGrad()
            layer(input).backward(seed: seed)
        }
        return (forward, both)
    }

    private func mlpStepSeconds() -> Double {
        var rng = RandomGenerator(seed: 4)
        let model = Sequential([
            Linear(inFeatures: 784, outFeatures: 512, using: &rng), ReLU(),
            Linear(inFeatures: 512, outFeatures: 512, using: &rng), ReLU(),
            Linear(inFeatures: 512, outFeatures: 10, using: &rng),
        ])
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.01)
        let x = Tensor.uniform([128, 784], using: &rng)
        let labels = (0..<128).map { $0 % 10 }
        return Stopwatch.median(budget: budget) {
            optimizer.zeroGrad()
            let loss = try? Loss.crossEntropy(model(x), labels: labels)
            loss?.backward()
            optimizer.step()
        }
    }

    private func elementwise(bandwidth: Double) -> [BenchmarkResult] {
        var rng = RandomGenerator(seed: 5)
        let n = 1 << 22
        let a = Tensor.normal([n], using: &rng), b = Tensor.normal([n], using: &rng)
        var results: [BenchmarkResult] = []
        let cases: [(String, Double, () -> Void)] = [
            ("add 4M", 12.0 * Double(n), { _ = a + b }),
            ("relu 4M", 8.0 * Double(n), { _ = a.relu() }),
            ("exp 4M", 8.0 * Double(n), { _ = a.exp() }),
            ("sum 4M", 4.0 * Double(n), { _ = a.sum() }),
        ]
        for (name, bytes, body) in cases {
            let seconds = Stopwatch.median(budget: budget) { withoutGradient(body) }
            results += [
                .init(suite: "elementwise", case: name, metric: "time", unit: "ms", value: seconds * 1e3),
                .init(suite: "elementwise", case: name, metric: "bandwidth", unit: "GB/s", value: bytes / seconds / 1e9),
                .init(suite: "elementwise", case: name, metric: "fraction of ceiling", unit: "ratio", value: bytes / seconds / 1e9 / bandwidth),
            ]
        }
        let logits = Tensor.normal([4096, 1000], using: &rng)
        let seconds = Stopwatch.median(budget: budget) { withoutGradient { _ = logits.softmax() } }
        let bytes = 8.0 * Double(logits.count)
        results += [
            .init(suite: "elementwise", case: "softmax 4096x1000", metric: "time", unit: "ms", value: seconds * 1e3),
            .init(suite: "elementwise", case: "softmax 4096x1000", metric: "bandwidth", unit: "GB/s", value: bytes / seconds / 1e9),
            .init(
                suite: "elementwise", case: "softmax 4096x1000", metric: "fraction of ceiling", unit: "ratio",
                value: bytes / seconds / 1e9 / bandwidth),
        ]
        return results
    }

    /// Bytes read plus bytes written per second by a 16 MiB copy (the footprint of the elementwise cases).
    private func copyBandwidth() -> Double {
        let n = 4 << 20
        let src = filled(n), dst = filled(n)
        defer { src.deallocate(); dst.deallocate() }
        let seconds = Stopwatch.median(budget: budget) { Elementwise.copy(src, dst, count: n) }
        return 8.0 * Double(n) / seconds / 1e9
    }

    private func filled(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { p[i] = Float(i % 7) * 0.1 - 0.3 }
        return p
    }
}
