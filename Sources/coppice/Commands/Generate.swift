import ArgumentParser
import CoppiceLLM
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a Llama model, streaming tokens as they come.")
    @OptionGroup var llama: LlamaOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "The prompt.") var prompt: String
    @Flag(help: "Wrap the prompt as a user turn of the model's chat format (Llama 3 or ChatML).") var chat = false
    @Option(help: "With --chat: a system message.") var system: String?

    func run() throws {
        let (runtime, tokenizer) = try llama.load()
        let ids =
            chat
            ? try ChatFormat(tokenizer: tokenizer).encodeDialogPrompt(
                (system.map { [ChatMessage(.system, $0)] } ?? []) + [ChatMessage(.user, prompt)])
            : tokenizer.encode(prompt, bos: true)
        var sampler = sampling.sampler
        var stream = TokenTextStream(tokenizer: tokenizer)
        let started = Date()
        let generated = try runtime.generate(prompt: ids, maxTokens: sampling.maxTokens, sampler: &sampler, stop: tokenizer.stopTokens) {
            FileHandle.standardOutput.write(Data(stream.append($0).utf8))
        }
        note(String(format: "\n[%d prompt + %d generated tokens in %.2f s]", ids.count, generated.count, Date().timeIntervalSince(started)))
    }
}
