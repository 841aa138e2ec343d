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
    @Flag(help: "Hold the reply to a JSON object (constrained decoding).") var json = false
    @Option(
        name: .customLong("json-schema"),
        help: "Hold the reply to this JSON schema, given inline (constrained decoding; the subset the README lists).")
    var jsonSchema: String?

    func run() throws {
        let grammar = try grammar()
        let (runtime, tokenizer) = try llama.load()
        let ids =
            chat
            ? try ChatFormat(tokenizer: tokenizer).encodeDialogPrompt(
                (system.map { [ChatMessage(.system, $0)] } ?? []) + [ChatMessage(.user, prompt)])
            : tokenizer.encode(prompt, bos: true)
        var sampler = sampling.sampler
        var stream = TokenTextStream(tokenizer: tokenizer)
        let constraint = grammar.map { GrammarConstraint(grammar: $0, vocabulary: TokenVocabulary(tokenizer: tokenizer)) }
        let started = Date()
        let generated = try runtime.generate(
            prompt: ids, maxTokens: sampling.maxTokens, sampler: &sampler, stop: tokenizer.stopTokens, constraint: constraint
        ) {
            FileHandle.standardOutput.write(Data(stream.append($0).utf8))
        }
        note(String(format: "\n[%d prompt + %d generated tokens in %.2f s]", ids.count, generated.count, Date().timeIntervalSince(started)))
    }

    /// The grammar --json or --json-schema asks for, if any.
    func grammar() throws -> ByteGrammar? {
        guard let jsonSchema else { return json ? JSONGrammar.object() : nil }
        do { return try JSONGrammar.schema(try OrderedJSON(parsing: jsonSchema)) } catch { throw ValidationError("--json-schema: \(error)") }
    }
}
