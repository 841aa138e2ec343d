import CoppiceFormats
import Foundation

/// What `coppice prune-llm --output DIR` writes beside the pruned model: `recipe.json` (how to repeat
/// the run), `report.json` and `report.md` (each matrix's sparsity, perplexity on held-out text before
/// and after, and the pruned file's speed run dense and from its nonzeros).
public struct LlamaPruningReport: Codable, Sendable {
    public struct Recipe: Codable, Sendable {
        public var model: String, method: String, sparsity: String, storage: String
        public var calibration: String, calibrationSequences: Int, sequenceLength: Int
        public var dampening: Double, blockSize: Int

        public init(
            model: String, method: String, sparsity: String, storage: String, calibration: String, calibrationSequences: Int,
            sequenceLength: Int, dampening: Double, blockSize: Int
        ) {
            (self.model, self.method, self.sparsity, self.storage) = (model, method, sparsity, storage)
            (self.calibration, self.calibrationSequences, self.sequenceLength) = (calibration, calibrationSequences, sequenceLength)
            (self.dampening, self.blockSize) = (dampening, blockSize)
        }
    }

    public struct Perplexity: Codable, Sendable {
        public var text: String, tokens: Int, window: Int, dense: Double, pruned: Double
        public init(text: String, tokens: Int, window: Int, dense: Double, pruned: Double) {
            (self.text, self.tokens, self.window, self.dense, self.pruned) = (text, tokens, window, dense, pruned)
        }
    }

    /// llama-bench's pp and tg on the written file, one run each way.
    public struct Speed: Codable, Sendable {
        public var promptTokens: Int, generatedTokens: Int
        public var prefillTokensPerSecond: Double, decodeTokensPerSecond: Double, weightMBPerToken: Double
        public init(promptTokens: Int, generatedTokens: Int, prefill: Double, decode: Double, weightMBPerToken: Double) {
            (self.promptTokens, self.generatedTokens) = (promptTokens, generatedTokens)
            (prefillTokensPerSecond, decodeTokensPerSecond, self.weightMBPerToken) = (prefill, decode, weightMBPerToken)
        }
    }

    public var recipe: Recipe
    /// What the run did, in a line ("wanda 2:4: 210 matrices, mean sparsity 50.00%").
    public var summary: String
    public var matrices: [LlamaPruning.MatrixReport]
    public var pruningSeconds: Double
    public var perplexity: Perplexity?
    /// The pruned file run with every matrix dense (`--sparse off`) and from its nonzeros (`auto`).
    public var dense: Speed?, sparse: Speed?

    public init(recipe: Recipe, summary: String, matrices: [LlamaPruning.MatrixReport], pruningSeconds: Double) {
        (self.recipe, self.summary, self.matrices, self.pruningSeconds) = (recipe, summary, matrices, pruningSeconds)
    }

    public var meanSparsity: Double { matrices.reduce(0) { $0 + $1.sparsity } / Double(max(matrices.count, 1)) }

    public func markdown() -> String {
        var lines = [
            "# \(recipe.method) \(recipe.sparsity) on \(recipe.model)", "",
            "Calibration: \(recipe.calibrationSequences) sequences of \(recipe.sequenceLength) tokens of \(recipe.calibration); "
                + summary + String(format: "; pruned in %.1f s; stored as %@.", pruningSeconds, recipe.storage), "",
        ]
        if let p = perplexity {
            lines += [
                String(
                    format: "Perplexity on %d tokens of %@ (windows of %d): %.3f dense, %.3f pruned (%+.1f%%).", p.tokens, p.text, p.window,
                    p.dense, p.pruned, 100 * (p.pruned / p.dense - 1)), "",
            ]
        }
        if let dense, let sparse {
            lines += [
                "| pruned file run | pp\(dense.promptTokens) tokens/s | tg\(dense.generatedTokens) tokens/s | weights MB/token |",
                "|---|---:|---:|---:|",
                String(
                    format: "| dense (--sparse off) | %.1f | %.2f | %.1f |", dense.prefillTokensPerSecond, dense.decodeTokensPerSecond,
                    dense.weightMBPerToken),
                String(
                    format: "| from its nonzeros (--sparse auto) | %.1f | %.2f | %.1f |", sparse.prefillTokensPerSecond, sparse.decodeTokensPerSecond,
                    sparse.weightMBPerToken),
                String(
                    format: "| sparse / dense | %.2f | %.2f | %.2f |", sparse.prefillTokensPerSecond / dense.prefillTokensPerSecond,
                    sparse.decodeTokensPerSecond / dense.decodeTokensPerSecond, sparse.weightMBPerToken / dense.weightMBPerToken), "",
            ]
        }
        if matrices.isEmpty { return lines.joined(separator: "\n") + "\n" }
        lines += ["| layer | matrix | sparsity |", "|---:|---|---:|"]
        lines += matrices.map { String(format: "| %d | %@ | %.2f%% |", $0.layer, $0.matrix, 100 * $0.sparsity) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `recipe.json`, `report.json` and `report.md` in `directory`, each written atomically.
    public func write(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(recipe), to: directory + "/recipe.json")
        try AtomicFile.write(try encoder.encode(self), to: directory + "/report.json")
        try AtomicFile.write(Data(markdown().utf8), to: directory + "/report.md")
    }
}
