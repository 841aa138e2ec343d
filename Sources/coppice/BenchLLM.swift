import ArgumentParser
import CoppiceBench
import CoppiceFormats
import CoppiceKernels
import CoppiceLLM
import CoppiceTensor
import Foundation

/// GGUF matrix types by llama.cpp's names (GGUFTensorType's raw values are GGML's type numbers).
enum GGUFMatrixType: String, CaseIterable, ExpressibleByArgument {
    case f32, f16, bf16, q8_0, q4_0

    var tensorType: GGUFTensorType {
        switch self { case .f32: .f32; case .f16: .f16; case .bf16: .bf16; case .q8_0: .q8_0; case .q4_0: .q4_0 }
    }
}

extension Bench {
    /// llama-bench's two numbers on GGUF files: pp (prompt processing: one batch of P random tokens
    /// into an empty cache) and tg (text generation: N single-token steps from an empty cache), in
    /// tokens per second, the median of the repetitions.
    struct LLM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "llm",
            abstract: "Prompt processing and generation speed (llama-bench's pp512 and tg128) of GGUF Llama models.")
        @OptionGroup var options: BenchOptions
        @Option(help: "GGUF files, comma-separated (scripts/llm-bench.sh writes random-weight ones).") var model: String
        @Option(name: .customShort("p"), help: "Prompt tokens.") var promptTokens = 512
        @Option(name: .customShort("n"), help: "Generated tokens.") var generatedTokens = 128
        @Option(name: .customShort("r"), help: "Repetitions.") var repetitions = 3
        @Flag(inversion: .prefixedNo, help: "An untimed prompt and one generated token first, as llama-bench does.") var warmup = true

        func validate() throws {
            guard promptTokens >= 1, generatedTokens >= 1, repetitions >= 1 else {
                throw ValidationError("-p, -n and -r must be at least 1 (got \(promptTokens), \(generatedTokens), \(repetitions))")
            }
        }

        func run() throws {
            var rows: [BenchmarkResult] = []
            for path in model.split(separator: ",").map(String.init) {
                printStage(path)
                let runtime = try LlamaGGUF.runtime(path: path, maxSequence: max(promptTokens, generatedTokens) + 1, maxBatch: promptTokens)
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
                let prefill = try median { runtime.reset(); _ = try runtime.forward(tokens) }
                let decode = try median {
                    runtime.reset()
                    for i in 0..<generatedTokens { _ = try runtime.forward([tokens[i % tokens.count]]) }
                }
                let name = URL(fileURLWithPath: path).lastPathComponent
                rows.append(.init(suite: "llm", case: name, metric: "pp\(promptTokens)", unit: "tokens/s", value: Double(promptTokens) / prefill))
                rows.append(.init(suite: "llm", case: name, metric: "tg\(generatedTokens)", unit: "tokens/s", value: Double(generatedTokens) / decode))
            }
            try options.report(rows)
        }
    }

    /// Random-weight Llama GGUF files at real shapes, for speed comparisons.
    struct LLMModel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "llm-model",
            abstract: "Write a random-weight Llama GGUF (N(0, 0.02) weights) at a real shape, with the Llama 3 vocabulary llama.cpp needs.")
        @Option(help: "llama-57m (dim 512, 8 layers, 8 heads, 2 KV heads, FFN 1536, vocab 32000) or llama-3.2-1b.") var preset = "llama-57m"
        @Option(help: "Matrix storage.") var type: GGUFMatrixType = .f32
        @Option(help: "Meta's Llama 3 tokenizer.model (its vocabulary goes into the file).") var tokenizer = ".data/llama3/tokenizer.model"
        @Option(help: "Output .gguf file.") var output: String
        @Option(help: "Random seed.") var seed: UInt64 = 0

        func validate() throws {
            guard ["llama-57m", "llama-3.2-1b"].contains(preset) else { throw ValidationError("--preset must be llama-57m or llama-3.2-1b") }
        }

        func run() throws {
            var c: LlamaConfiguration
            if preset == "llama-57m" {
                c = LlamaConfiguration(vocabularySize: 32_000, hiddenSize: 512, layers: 8, heads: 8, kvHeads: 2, intermediateSize: 1536)
                c.ropeTheta = 10_000
            } else {
                c = LlamaConfiguration(vocabularySize: 128_256, hiddenSize: 2048, layers: 16, heads: 32, kvHeads: 8, intermediateSize: 8192)
                c.ropeScaling = .init(factor: 32)
                c.tieWordEmbeddings = true
            }
            c.maxPositions = 2048
            var rng = RandomGenerator(seed: seed)
            let model = try Llama(c, maxSequence: 1, using: &rng)
            try LlamaGGUF.write(model, tokenizer: try Llama3Tokenizer(path: tokenizer), type: type.tensorType, to: output)
            FileHandle.standardError.write(Data("wrote \(output): \(model.parameterCount()) parameters as \(type.rawValue)\n".utf8))
        }
    }
}
