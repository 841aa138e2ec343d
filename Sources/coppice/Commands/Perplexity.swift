import ArgumentParser
import CoppiceLLM
import Foundation

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Perplexity of a Llama model on a text file, in windows of --window tokens.")
    @OptionGroup var llama: LlamaOptions
    @Option(help: "Text file.") var text: String
    @Option(help: "Tokens per window.") var window = 512
    @Option(name: .customLong("max-tokens"), help: "Score at most this many tokens (0: all).") var maxTokens = 0

    func validate() throws {
        // A window scores each token from the ones before it: at least two.
        guard window > 1 else { throw ValidationError("--window must be at least 2 tokens, got \(window)") }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be 0 (all) or more, got \(maxTokens)") }
    }

    func run() throws {
        let (runtime, tokenizer) = try llama.load()
        let started = Date()
        let (ppl, count) = try runtime.perplexity(ofFile: text, tokenizer: tokenizer, window: min(window, llama.context), maxTokens: maxTokens)
        print(String(format: "perplexity %.4f over %d tokens (%.1f tokens/s)", ppl, count, Double(count) / Date().timeIntervalSince(started)))
    }
}
