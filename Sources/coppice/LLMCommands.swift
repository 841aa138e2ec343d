import ArgumentParser
import CoppiceFormats
import CoppiceKernels
import CoppiceLLM
import CoppiceTensor
import Foundation

/// Options every command running a Llama shares.
struct LlamaOptions: ParsableArguments {
    @Option(help: "Hugging Face model directory (config.json, model.safetensors or sharded with model.safetensors.index.json) or a GGUF file.")
    var model: String
    @Option(help: "Meta's Llama 3 tokenizer.model.") var tokenizer = ".data/llama3/tokenizer.model"
    @Option(help: "Context length (KV cache size).") var context = 2048
    @Option(name: .customLong("weight-type"),
            help: "Weights at inference: f32, f16, bf16, q8_0 or q4_0 (Q8_0/Q4_0: widths in blocks of 32; default: f32, or a GGUF file's own types).")
    var weightType: WeightMatrix.Format?

    func load() throws -> (LlamaRuntime, Llama3Tokenizer) {
        let tokenizer = try Llama3Tokenizer(path: tokenizer), batch = min(512, context)
        let gguf = model.lowercased().hasSuffix(".gguf")
        // A GGUF file runs on its weights as stored unless another type is asked for.
        if gguf && weightType == nil { return (try LlamaGGUF.runtime(path: model, maxSequence: context, maxBatch: batch), tokenizer) }
        let llama = gguf ? try LlamaGGUF.load(path: model, maxSequence: context) : try LlamaCheckpoint.load(directory: model, maxSequence: context)
        let c = llama.configuration, widths = [c.hiddenSize, c.heads * c.headDimension, c.intermediateSize], format = weightType ?? .f32
        if format.isBlockQuantized, let bad = widths.first(where: { $0 % 32 != 0 }) {
            throw ValidationError("--weight-type \(format.rawValue) needs every matrix width in blocks of 32; this model has \(bad) (widths \(widths))")
        }
        return (LlamaRuntime(model: llama, format: format, maxSequence: context, maxBatch: batch), tokenizer)
    }
}

extension WeightMatrix.Format: ExpressibleByArgument {}

struct SamplingOptions: ParsableArguments {
    @Option(help: "Temperature (0: greedy).") var temperature: Float = 0.6
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: all).") var topK = 0
    @Option(name: .customLong("top-p"), help: "Nucleus: keep the most likely tokens up to this mass.") var topP: Float = 0.9
    @Option(name: .customLong("min-p"), help: "Drop tokens below this fraction of the top probability.") var minP: Float = 0
    @Option(name: .customLong("repeat-penalty"), help: "Divide the logits of the last 64 tokens by this.") var repeatPenalty: Float = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens = 256

    func validate() throws {
        guard temperature >= 0, topK >= 0, topP > 0 && topP <= 1, minP >= 0 && minP < 1, repeatPenalty > 0, maxTokens > 0 else {
            throw ValidationError("sampling options out of range: temperature ≥ 0, top-k ≥ 0, top-p in (0, 1], min-p in [0, 1), repeat-penalty > 0")
        }
    }

    var sampler: Sampler {
        var s = Sampler(seed: seed)
        (s.temperature, s.topK, s.topP, s.minP, s.repetitionPenalty) = (temperature, topK, topP, minP, repeatPenalty)
        return s
    }
}

/// Streams decoded text: tokens are buffered until their bytes form whole UTF-8 characters.
struct TextStream {
    let tokenizer: Llama3Tokenizer
    var pending: [UInt8] = []

    mutating func write(_ token: Int) {
        guard !tokenizer.stopTokens.contains(token) else { return }
        pending += tokenizer.bytes([token])
        if let text = String(validating: pending, as: UTF8.self) {
            FileHandle.standardOutput.write(Data(text.utf8))
            pending.removeAll()
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a Llama model, streaming tokens as they come.")
    @OptionGroup var llama: LlamaOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "The prompt.") var prompt: String
    @Flag(help: "Wrap the prompt as a user turn of the Llama 3 chat format.") var chat = false
    @Option(help: "With --chat: a system message.") var system: String?

    func run() throws {
        let (runtime, tokenizer) = try llama.load()
        let format = ChatFormat(tokenizer: tokenizer)
        let ids = chat ? format.encodeDialogPrompt((system.map { [ChatMessage(.system, $0)] } ?? []) + [ChatMessage(.user, prompt)])
            : tokenizer.encode(prompt, bos: true)
        var sampler = sampling.sampler
        var stream = TextStream(tokenizer: tokenizer)
        let started = Date()
        let generated = try runtime.generate(prompt: ids, maxTokens: sampling.maxTokens, sampler: &sampler, stop: tokenizer.stopTokens) { stream.write($0) }
        let seconds = Date().timeIntervalSince(started)
        FileHandle.standardError.write(Data(String(format: "\n[%d prompt + %d generated tokens in %.2f s]\n", ids.count, generated.count, seconds).utf8))
    }
}

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Chat with a Llama model in the terminal (Llama 3 chat format; empty line or EOF ends).")
    @OptionGroup var llama: LlamaOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "A system message.") var system: String?

    func run() throws {
        let (runtime, tokenizer) = try llama.load()
        let format = ChatFormat(tokenizer: tokenizer)
        var sampler = sampling.sampler
        var pending = [tokenizer.beginOfText] + (system.map { format.encode(ChatMessage(.system, $0)) } ?? [])
        while true {
            FileHandle.standardError.write(Data("> ".utf8))
            guard let line = readLine(), !line.isEmpty else { break }
            pending += format.encode(ChatMessage(.user, line)) + format.header(.assistant)
            guard runtime.length + pending.count < runtime.maxSequence else {
                FileHandle.standardError.write(Data("[context full: start a new chat]\n".utf8))
                break
            }
            var stream = TextStream(tokenizer: tokenizer)
            let reply = try runtime.generate(prompt: pending, maxTokens: sampling.maxTokens, sampler: &sampler, stop: tokenizer.stopTokens) { stream.write($0) }
            print()
            // The cache holds the reply but its last token; that token (and an end of turn after a
            // reply cut short) opens the next turn's input.
            let last = reply.last ?? tokenizer.endOfTurn
            pending = [last] + (tokenizer.stopTokens.contains(last) ? [] : [tokenizer.endOfTurn])
        }
    }
}

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Perplexity of a Llama model on a text file, in windows of --window tokens.")
    @OptionGroup var llama: LlamaOptions
    @Option(help: "Text file.") var text: String
    @Option(help: "Tokens per window.") var window = 512
    @Option(name: .customLong("max-tokens"), help: "Score at most this many tokens (0: all).") var maxTokens = 0

    func run() throws {
        let (runtime, tokenizer) = try llama.load()
        guard let data = FileManager.default.contents(atPath: text) else { throw ValidationError("cannot read \(text)") }
        var ids = tokenizer.encode(String(decoding: data, as: UTF8.self), bos: true)
        if maxTokens > 0 { ids = Array(ids.prefix(maxTokens)) }
        let started = Date()
        let (ppl, count) = try runtime.perplexity(ids, context: min(window, llama.context))
        print(String(format: "perplexity %.4f over %d tokens (%.1f tokens/s)", ppl, count, Double(count) / Date().timeIntervalSince(started)))
    }
}

struct TrainLlama: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llama",
        abstract: "Train a small Llama from scratch on text files (next-token prediction, AdamW); reports held-out perplexity before and after.",
        discussion: "Example: coppice train llama --text .data/austen/emma.txt,.data/austen/persuasion.txt --held-out .data/austen/northangerabbey.txt --minutes 3")
    @Option(help: "Comma-separated training text files.") var text: String
    @Option(name: .customLong("held-out"), help: "Text file for the perplexity measurement.") var heldOut: String
    @Option(help: "Tokenizer (Meta's Llama 3 tokenizer.model).") var tokenizer = ".data/llama3/tokenizer.model"
    @Option(help: "Model width.") var dim = 128
    @Option(help: "Blocks.") var layers = 4
    @Option(help: "Query heads.") var heads = 4
    @Option(name: .customLong("kv-heads"), help: "Key/value heads (GQA).") var kvHeads = 2
    @Option(name: .customLong("ffn"), help: "Feed-forward width (default: the Llama rule for --dim).") var ffn: Int?
    @Option(name: .customLong("sequence-length"), help: "Tokens per training window.") var sequenceLength = 128
    @Option(name: .customLong("batch-size"), help: "Windows per step.") var batchSize = 8
    @Option(help: "Peak AdamW learning rate.") var lr: Float = 3e-3
    @Option(help: "Most optimizer steps.") var steps = 2000
    @Option(help: "Stop after this many minutes of training.") var minutes: Double = 3
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Output directory (config.json, model.safetensors, result.json).") var output = "runs/llama-austen"

    func run() throws {
        let tok = try Llama3Tokenizer(path: tokenizer)
        func read(_ path: String) throws -> [Int] {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            return tok.encode(String(decoding: data, as: UTF8.self), bos: true)
        }
        let train = try text.split(separator: ",").flatMap { try read(String($0)) }
        let held = try read(heldOut)
        var c = LlamaConfiguration(vocabularySize: tok.vocabularySize, hiddenSize: dim, layers: layers, heads: heads, kvHeads: kvHeads,
                                   intermediateSize: ffn ?? LlamaConfiguration.feedForwardSize(dimension: dim, multiplier: nil, multipleOf: 32))
        c.tieWordEmbeddings = true
        c.maxPositions = sequenceLength
        var rng = RandomGenerator(seed: seed)
        let model = try Llama(c, maxSequence: sequenceLength, using: &rng)
        var training = LanguageModelTraining()
        (training.sequenceLength, training.batchSize, training.learningRate, training.steps, training.seconds, training.seed) =
            (sequenceLength, batchSize, lr, steps, minutes * 60, seed)
        FileHandle.standardError.write(Data("train llama: \(model.parameterCount()) parameters, \(train.count) training tokens, \(held.count) held-out\n".utf8))
        let result = try training.run(model, train: train, heldOut: held) { step, loss in
            if step % 10 == 0 { FileHandle.standardError.write(Data(String(format: "step %d loss %.3f\n", step, loss).utf8)) }
        }
        try LlamaCheckpoint.save(model, to: output)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(result), to: output + "/result.json")
        print(String(format: "held-out perplexity %.1f at initialization → %.1f after %d steps (%.0f s, %d tokens a step); model in %@",
                     result.initialPerplexity, result.finalPerplexity, result.steps, result.seconds, batchSize * sequenceLength, output))
    }
}
