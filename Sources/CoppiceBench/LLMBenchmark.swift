import CoppiceLLM
import CoppiceRuns
import CoppiceTensor
import Foundation

/// llama-bench's two numbers on GGUF files: pp (prompt processing: one batch of P random tokens into
/// an empty cache) and tg (text generation: N single-token steps from an empty cache), in tokens per
/// second, the median of the repetitions.
public struct LLMBenchmark: Sendable {
    public var models: [String]
    public var promptTokens = 512
    public var generatedTokens = 128
    public var repetitions = 3
    /// An untimed prompt and one generated token first, as llama-bench does.
    public var warmup = true
    /// Pruned matrices run from their nonzeros (`LlamaRuntime.maskSparseMatrices`).
    public var sparse = true
    /// Concurrent sequences to time batched decode at (`LlamaRuntime.decode(_:sequences:)`): each N
    /// gives the aggregate tokens/s of N sequences generating `generatedTokens` each, one step for all.
    public var parallel: [Int] = []
    /// Weights used in place from the file's memory map (false: copied, `--no-mmap`).
    public var mapped = true

    public init(models: [String]) { self.models = models }

    public func run(progress: (String) -> Void = { _ in }) throws -> [BenchmarkResult] {
        var rows: [BenchmarkResult] = []
        for path in models {
            progress(path)
            let runtime = try LlamaGGUF.runtime(
                path: path, maxSequence: max(promptTokens, generatedTokens + 16) + 1, maxBatch: max(promptTokens, parallel.max() ?? 0),
                mapped: mapped)
            if sparse { runtime.maskSparseMatrices() }
            var rng = RandomGenerator(seed: 1)
            let tokens = (0..<promptTokens).map { _ in Int(rng.nextUniform() * Float(runtime.configuration.vocabularySize - 1)) }
            func median(_ body: () throws -> Void) rethrows -> Double {
                var times: [Double] = []
                for _ in 0..<repetitions {
                    let start = DispatchTime.now().uptimeNanoseconds
                    try body()
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
                return times.sorted()[repetitions / 2]
            }
            if warmup {
                runtime.reset()
                _ = try runtime.forward(tokens)
                _ = try runtime.forward([tokens[0]])
            }
            let prefill = try median {
                runtime.reset(); _ = try runtime.forward(tokens)
            }
            let decode = try median {
                runtime.reset()
                for i in 0..<generatedTokens { _ = try runtime.forward([tokens[i % tokens.count]]) }
            }
            let name = URL(fileURLWithPath: path).lastPathComponent
            rows.append(.init(suite: "llm", case: name, metric: "pp\(promptTokens)", unit: "tokens/s", value: Double(promptTokens) / prefill))
            rows.append(.init(suite: "llm", case: name, metric: "tg\(generatedTokens)", unit: "tokens/s", value: Double(generatedTokens) / decode))
            // What decode streams per token, and at what rate: the distance to the memory's bandwidth.
            let bytes = Double(runtime.weightBytesPerToken)
            rows.append(.init(suite: "llm", case: name, metric: "weights per token", unit: "MB", value: bytes / 1e6))
            rows.append(.init(suite: "llm", case: name, metric: "weight stream", unit: "GB/s", value: bytes * Double(generatedTokens) / decode / 1e9))
            rows.append(.init(suite: "llm", case: name, metric: "masked matrices", unit: "count", value: Double(runtime.maskedMatrixCount)))
            for n in parallel {
                let seconds = try batchedDecode(runtime.withSequences(n), streams: n, tokens: tokens)
                let metric = "tg\(generatedTokens) x \(n) streams"
                rows.append(.init(suite: "llm", case: name, metric: metric, unit: "tokens/s", value: Double(n * generatedTokens) / seconds))
            }
        }
        return rows
    }

    /// Seconds (median of the repetitions) for `streams` sequences, each after its own 16-token
    /// prompt (untimed), to generate `generatedTokens` tokens in batched steps.
    func batchedDecode(_ runtime: LlamaRuntime, streams: Int, tokens: [Int]) throws -> Double {
        let all = Array(0..<streams)
        func prefill() throws {
            for s in all {
                runtime.reset(sequence: s)
                _ = try runtime.forward((0..<16).map { tokens[(s * 16 + $0) % tokens.count] }, sequence: s)
            }
        }
        if warmup {
            try prefill()
            _ = try runtime.decode(all.map { tokens[$0 % tokens.count] }, sequences: all)
        }
        var times: [Double] = []
        for _ in 0..<repetitions {
            try prefill()
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<generatedTokens { _ = try runtime.decode(all.map { tokens[($0 + i) % tokens.count] }, sequences: all) }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[repetitions / 2]
    }
}
