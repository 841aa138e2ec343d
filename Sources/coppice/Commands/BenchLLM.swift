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
        @Option(help: "auto: matrices with at least 25% zeros run from their nonzeros; off: every matrix dense.") var sparse: SparseWeights = .auto
        @Option(
            help:
                "Also time batched decode with these numbers of concurrent sequences, comma-separated (e.g. 1,4,8): aggregate tokens/s of N streams generating -n tokens each, one step for all."
        )
        var parallel = ""
        @Flag(name: .customLong("no-mmap"), help: "Copy the files' weights into memory instead of using them in place from the memory map.")
        var noMmap = false

        func validate() throws {
            guard promptTokens >= 1, generatedTokens >= 1, repetitions >= 1 else {
                throw ValidationError("-p, -n and -r must be at least 1 (got \(promptTokens), \(generatedTokens), \(repetitions))")
            }
            guard let streams = streamCounts, streams.allSatisfy({ (1...512).contains($0) }) else {
                throw ValidationError("--parallel must be comma-separated stream counts in 1...512, got '\(parallel)'")
            }
        }

        /// `--parallel` parsed (nil when malformed).
        var streamCounts: [Int]? {
            let parts = parallel.split(separator: ",", omittingEmptySubsequences: false)
            return parallel.isEmpty ? [] : parts.allSatisfy { Int($0) != nil } ? parts.map { Int($0)! } : nil
        }

        func run() throws {
            options.announce()
            var benchmark = LLMBenchmark(models: model.split(separator: ",").map(String.init))
            (benchmark.promptTokens, benchmark.generatedTokens, benchmark.repetitions, benchmark.warmup) = (
                promptTokens, generatedTokens, repetitions, warmup
            )
            benchmark.sparse = sparse == .auto
            benchmark.parallel = streamCounts ?? []
            benchmark.mapped = !noMmap
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
        @Option(help: "Prune every block's matrices by magnitude first: a fraction (0.5) or N:M (2:4); none by default.") var sparsity: String?
        @Flag(name: .customLong("prune-output"), help: "With --sparsity, prune the output head too (the embedding, where tied).")
        var pruneOutput = false

        func validate() throws {
            if let sparsity, LlamaPruning.Pattern(sparsity) == nil {
                throw ValidationError("--sparsity must be a fraction in (0, 1) or N:M with 0 < N < M, got '\(sparsity)'")
            }
            if pruneOutput && sparsity == nil { throw ValidationError("--prune-output needs --sparsity") }
            if sparsity != nil && type == .q4_1 { throw ValidationError("--type q4_1 cannot hold pruned zeros; use f16 or q8_0") }
        }

        func run() throws {
            let model = try LlamaGGUF.writeRandom(
                preset, type: type.type, tokenizer: tokenizer, seed: seed, pruning: sparsity.flatMap(LlamaPruning.Pattern.init),
                pruneOutput: pruneOutput, to: output)
            note("wrote \(output): \(model.parameterCount()) parameters as \(type.rawValue)\(sparsity.map { ", pruned to \($0)" } ?? "")")
        }
    }
}
