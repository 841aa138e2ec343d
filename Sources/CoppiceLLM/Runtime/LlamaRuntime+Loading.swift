import CoppiceFormats
import CoppiceKernels
import Foundation

extension LlamaRuntime {
    /// A runtime and a tokenizer for `model`: a Hugging Face directory (config.json + safetensors) or a
    /// GGUF file. The tokenizer is `tokenizer` (Meta's `tokenizer.model` or a `tokenizer.json`), or when
    /// nil the model's own (a GGUF file's vocabulary, a directory's `tokenizer.json`), else `.data/llama3/tokenizer.model`. A GGUF file runs on its
    /// weights as stored unless `weightType` asks for another; a directory runs at `weightType`
    /// (default F32). Prefill batches hold up to 512 tokens. With `sparse`, pruned matrices (at least
    /// `sparseThreshold` zeros) run from their nonzeros.
    public static func load(
        model: String, tokenizer: String?, context: Int = 2048,
        weightType: WeightMatrix.Format? = nil, sparse: Bool = true, mapped: Bool = true
    ) throws -> (runtime: LlamaRuntime, tokenizer: any TextTokenizer) {
        let gguf = model.lowercased().hasSuffix(".gguf"), batch = min(512, context)
        let tokenizer = try loadTokenizer(tokenizer, model: model)
        let runtime = try denseRuntime(model: model, gguf: gguf, context: context, batch: batch, weightType: weightType, mapped: mapped)
        if sparse { runtime.maskSparseMatrices() }
        return (runtime, tokenizer)
    }

    private static func denseRuntime(
        model: String, gguf: Bool, context: Int, batch: Int, weightType: WeightMatrix.Format?, mapped: Bool
    ) throws -> LlamaRuntime {
        if gguf && weightType == nil { return try LlamaGGUF.runtime(path: model, maxSequence: context, maxBatch: batch, mapped: mapped) }
        let llama = gguf ? try LlamaGGUF.load(path: model, maxSequence: context) : try LlamaCheckpoint.load(directory: model, maxSequence: context)
        let c = llama.configuration, widths = [c.hiddenSize, c.heads * c.headDimension, c.intermediateSize], format = weightType ?? .f32
        if format.isBlockQuantized, let bad = widths.first(where: { $0 % 32 != 0 }) {
            throw LlamaError.invalidConfiguration(
                "--weight-type \(format.rawValue) needs every matrix width in blocks of 32; this model has \(bad) (widths \(widths))")
        }
        return LlamaRuntime(model: llama, format: format, maxSequence: context, maxBatch: batch)
    }

    /// Perplexity of the text in `path` (tokenized with a begin-of-text token, at most `maxTokens`
    /// tokens when positive), in windows of `window` tokens.
    public func perplexity(
        ofFile path: String, tokenizer: any TextTokenizer, window: Int,
        maxTokens: Int = 0
    ) throws -> (perplexity: Double, tokens: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { throw LlamaError.invalidInput("cannot read \(path)") }
        var ids = tokenizer.encode(String(decoding: data, as: UTF8.self), bos: true)
        if maxTokens > 0 { ids = Array(ids.prefix(maxTokens)) }
        return try perplexity(ids, context: window)
    }

    /// `path` as Meta's `tokenizer.model` or (ending in .json) a `tokenizer.json`; nil: the vocabulary
    /// of the GGUF file `model` or the model directory's `tokenizer.json`, else `.data/llama3/tokenizer.model`.
    static func loadTokenizer(_ path: String?, model: String) throws -> any TextTokenizer {
        if let path { return path.hasSuffix(".json") ? try HuggingFaceTokenizer(path: path) : try Llama3Tokenizer(path: path) }
        if !model.lowercased().hasSuffix(".gguf") {
            if FileManager.default.fileExists(atPath: model + "/tokenizer.json") { return try HuggingFaceTokenizer(path: model + "/tokenizer.json") }
        } else {
            let file: GGUFFile
            do { file = try GGUFFile(path: model) } catch { throw LlamaError.weights("\(error)") }
            if file.metadata["tokenizer.ggml.tokens"] != nil { return try HuggingFaceTokenizer(gguf: file.metadata, name: model) }
        }
        return try Llama3Tokenizer(path: ".data/llama3/tokenizer.model")
    }
}
