import CoppiceKernels
import CoppiceNN
import CoppiceOptimizers
import CoppiceRec
import CoppiceRuns
import CoppiceTensor

/// `coppice bench dlrm`: a DLRM training step (forward, BCE loss, backward with row-sparse embedding
/// gradients, SGD) and inference on random one-hot batches, for the configuration of issue 6:
/// 8 tables × 100,000 rows × 64, bottom 13-512-256-64, dot interaction, top 512-256-1.
/// `benchmarks/pytorch_dlrm.py` times the same model in PyTorch.
public struct DLRMBenchmark {
    public var budget: Double
    public var batches: [Int] = [128, 2048]
    public var configuration = DLRMConfiguration(
        bottomMLP: [13, 512, 256, 64], topMLP: [512, 256, 1], embeddingDimension: 64,
        tableSizes: Array(repeating: 100_000, count: 8))

    public init(budget: Double = 1.0) { self.budget = budget }

    public func run(progress: (String) -> Void = { _ in }) throws -> [BenchmarkResult] {
        var rng = RandomGenerator(seed: 11)
        let model = try DLRM(configuration, using: &rng)
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.01)
        var results: [BenchmarkResult] = []
        for batch in batches {
            progress("dlrm batch \(batch)")
            let input = DLRMBatch(
                dense: .uniform([batch, 13], using: &rng),
                indices: configuration.tableSizes.map { rows in (0..<batch).map { _ in Int(rng.next() % UInt64(rows)) } },
                offsets: configuration.tableSizes.map { _ in Array(0..<batch) })
            let labels = Tensor((0..<batch).map { _ in Float(rng.next() % 2) }).reshaped([batch, 1])
            var failure: Error?
            let train = Stopwatch.median(budget: budget) {
                do {
                    optimizer.zeroGrad()
                    try Loss.binaryCrossEntropyWithLogits(try model(input), targets: labels).backward()
                    optimizer.step()
                } catch { failure = error }
            }
            let infer = Stopwatch.median(budget: budget) { withoutGradient { _ = try? model(input).sigmoid() } }
            if let failure { throw failure }
            let name = "dlrm 8x100000x64 bot 13-512-256-64 top 512-256-1 batch \(batch)"
            results += [
                .init(suite: "dlrm", case: name + " train step", metric: "time", unit: "ms", value: train * 1e3),
                .init(suite: "dlrm", case: name + " inference", metric: "time", unit: "ms", value: infer * 1e3),
            ]
        }
        return results
    }
}
