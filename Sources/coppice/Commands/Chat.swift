import ArgumentParser
import CoppiceLLM
import Foundation

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a Llama model in the terminal (the model's chat format: Llama 3 or ChatML; empty line or EOF ends).")
    @OptionGroup var llama: LlamaOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "A system message.") var system: String?

    func run() throws {
        let (runtime, tokenizer) = try llama.load()
        var session = try ChatSession(
            runtime: runtime, tokenizer: tokenizer, system: system, sampler: sampling.sampler, maxTokens: sampling.maxTokens)
        while true {
            FileHandle.standardError.write(Data("> ".utf8))
            guard let line = readLine(), !line.isEmpty else { break }
            var stream = TokenTextStream(tokenizer: tokenizer)
            guard try session.reply(to: line, onToken: { FileHandle.standardOutput.write(Data(stream.append($0).utf8)) }) != nil else {
                note("[context full: start a new chat]")
                break
            }
            print()
        }
    }
}
