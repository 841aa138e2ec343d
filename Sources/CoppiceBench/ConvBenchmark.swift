import CoppiceKernels
import CoppiceRuns
import CoppiceTensor

/// `coppice bench conv`: forward (inference) time of every convolution algorithm on the 3×3 layer
/// shapes of VGG-nagadomi (32×32 inputs) and of the Fashion-MNIST net `vgg-fmnist` (28×28), in one
/// run: im2col + GEMM, direct, dense Winograd F(2×2,3×3) and F(4×4,3×3) with pre-transformed weights
/// (as an inference engine keeps them), and sparse Winograd F(4×4,3×3) at the given Winograd-domain
/// sparsities (random positions; the run's masks prune whole support sets and Q elements, which the
/// CSR-per-position kernel sees only through the nonzero count).
public struct ConvBenchmark {
    public struct Shape: Sendable {
        public var network: String, inChannels: Int, outChannels: Int, size: Int
    }

    public var budget: Double
    public var batches: [Int] = [1, 32]
    public var sparsities: [Double] = [0.7, 0.8, 0.9]
    public var shapes: [Shape] = [
        .init(network: "vgg-nagadomi", inChannels: 3, outChannels: 64, size: 32),
        .init(network: "vgg-nagadomi", inChannels: 64, outChannels: 64, size: 32),
        .init(network: "vgg-nagadomi", inChannels: 64, outChannels: 128, size: 16),
        .init(network: "vgg-nagadomi", inChannels: 128, outChannels: 128, size: 16),
        .init(network: "vgg-nagadomi", inChannels: 128, outChannels: 256, size: 8),
        .init(network: "vgg-nagadomi", inChannels: 256, outChannels: 256, size: 8),
        .init(network: "vgg-fmnist", inChannels: 1, outChannels: 32, size: 28),
        .init(network: "vgg-fmnist", inChannels: 32, outChannels: 32, size: 28),
        .init(network: "vgg-fmnist", inChannels: 32, outChannels: 64, size: 14),
        .init(network: "vgg-fmnist", inChannels: 64, outChannels: 64, size: 14),
    ]

    public init(budget: Double = 0.3) { self.budget = budget }

    /// The case name of a shape at a batch size (the PyTorch script uses the same names).
    public static func name(_ s: Shape, batch: Int) -> String {
        "\(s.network) \(s.inChannels)->\(s.outChannels) \(s.size)x\(s.size) batch \(batch)"
    }

    public func run(progress: (String) -> Void = { _ in }) -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        var rng = RandomGenerator(seed: 9)
        for shape in shapes {
            for batch in batches {
                let name = Self.name(shape, batch: batch)
                progress(name)
                let g = Conv2DGeometry(
                    batch: batch, inChannels: shape.inChannels, outChannels: shape.outChannels, height: shape.size,
                    width: shape.size, kernelHeight: 3, kernelWidth: 3, padding: (1, 1))
                let x = Tensor.normal([batch * g.inChannels * g.inPlane], using: &rng).scalars
                let w = Tensor.normal([g.outChannels * g.patchSize], using: &rng).scalars
                var y = [Float](repeating: 0, count: batch * g.outChannels * g.outPlane)
                func time(_ body: () -> Void) -> Double { Stopwatch.median(budget: budget, body) * 1e3 }
                let im2col = time { Conv2DIm2Col.forward(x, w, bias: nil, &y, g) }
                var rows: [(String, Double)] = [("im2col", im2col), ("direct", time { Conv2DDirect.forward(x, w, bias: nil, &y, g) })]
                var q4: [Float] = []
                for t in [WinogradTransform.f2x3, .f4x3] {
                    let plan = WinogradPlan(g, transform: t)
                    var q = [Float](repeating: 0, count: plan.positions * g.outChannels * g.inChannels)
                    Conv2DWinograd.transformWeights(w, outChannels: g.outChannels, inChannels: g.inChannels, t, &q)
                    rows.append(("winograd F\(t.m)x3", time { Conv2DWinograd.forward(x, winogradWeights: q, bias: nil, &y, plan) }))
                    if t == .f4x3 { q4 = q }
                }
                let plan = WinogradPlan(g, transform: .f4x3)
                let keep = (0..<q4.count).map { _ in rng.nextUniform() }
                for sparsity in sparsities {
                    let masked = zip(q4, keep).map { $1 < Float(sparsity) ? 0 : $0 }
                    let sparse = SparseWinogradWeights(
                        winogradWeights: masked, outChannels: g.outChannels, inChannels: g.inChannels,
                        transform: .f4x3)
                    rows.append(
                        (
                            "sparse winograd F4x3 \(Int((sparsity * 100).rounded()))%",
                            time { Conv2DWinograd.forward(x, sparseWeights: sparse, bias: nil, &y, plan) }
                        ))
                }
                for (algorithm, ms) in rows {
                    results.append(.init(suite: "conv", case: name, metric: algorithm + " time", unit: "ms", value: ms))
                    if algorithm != "im2col" {
                        results.append(.init(suite: "conv", case: name, metric: algorithm + " speedup over im2col", unit: "x", value: im2col / ms))
                    }
                }
            }
        }
        return results
    }
}
