import CoppiceBench
import CoppiceLLM

extension PruneLLM {
    /// llama-bench's pp and tg on the pruned file, one run, its matrices dense or from their nonzeros.
    func speed(_ path: String, sparse: Bool) throws -> LlamaPruningReport.Speed {
        var benchmark = LLMBenchmark(models: [path])
        (benchmark.promptTokens, benchmark.generatedTokens, benchmark.repetitions, benchmark.sparse) = (
            speedTokens, max(1, speedTokens / 4), 1, sparse
        )
        let rows = try benchmark.run()
        func value(_ metric: String) -> Double { rows.first { $0.metric == metric }?.value ?? .nan }
        return .init(
            promptTokens: benchmark.promptTokens, generatedTokens: benchmark.generatedTokens, prefill: value("pp\(benchmark.promptTokens)"),
            decode: value("tg\(benchmark.generatedTokens)"), weightMBPerToken: value("weights per token"))
    }
}
