import ArgumentParser
import CoppiceBench
import CoppiceFormats
import CoppiceLLM

extension Bench {
    /// llama-bench's pp and tg numbers on GGUF files.
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
            options.announce()
            var benchmark = LLMBenchmark(models: model.split(separator: ",").map(String.init))
            (benchmark.promptTokens, benchmark.generatedTokens, benchmark.repetitions, benchmark.warmup) = (
                promptTokens, generatedTokens, repetitions, warmup
            )
            try options.report(benchmark.run(progress: printStage))
        }
    }

    /// Random-weight Llama GGUF files at real shapes, for speed comparisons.
    struct LLMModel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "llm-model",
            abstract: "Write a random-weight Llama GGUF (N(0, 0.02) weights) at a real shape, with the Llama 3 vocabulary llama.cpp needs.")
        @Option(help: "llama-57m (dim 512, 8 layers, 8 heads, 2 KV heads, FFN 1536, vocab 32000) or llama-3.2-1b.")
        var preset: LlamaConfiguration.Preset = .llama57M
        @Option(help: "Matrix storage.") var type: MatrixStorage = .f32
        @Option(help: "Meta's Llama 3 tokenizer.model (its vocabulary goes into the file).") var tokenizer = ".data/llama3/tokenizer.model"
        @Option(help: "Output .gguf file.") var output: String
        @Option(help: "Random seed.") var seed: UInt64 = 0

        func run() throws {
            let model = try LlamaGGUF.writeRandom(preset, type: type.type, tokenizer: tokenizer, seed: seed, to: output)
            note("wrote \(output): \(model.parameterCount()) parameters as \(type.rawValue)")
        }
    }
}
