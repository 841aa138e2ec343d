import CoppiceFormats
import CoppiceTensor
import Foundation

extension LlamaGGUF {
    /// `coppice convert-llama`: a Hugging Face directory or a GGUF file written again as a GGUF file
    /// of `type` matrices (vectors stay F32) with the tokenizer's vocabulary; returns the model.
    @discardableResult
    public static func convert(_ input: String, to output: String, type: GGUFTensorType, tokenizer: String) throws -> Llama {
        let model = input.lowercased().hasSuffix(".gguf") ? try load(path: input) : try LlamaCheckpoint.load(directory: input)
        try write(model, tokenizer: try Llama3Tokenizer(path: tokenizer), type: type, to: output)
        return model
    }

    /// A random-weight model (N(0, 0.02)) of `preset`'s shape written as a GGUF file; returns it.
    /// With `pruning`, its weights pruned by magnitude first (`LlamaPruning.pruneByMagnitude`).
    @discardableResult
    public static func writeRandom(
        _ preset: LlamaConfiguration.Preset, type: GGUFTensorType, tokenizer: String, seed: UInt64,
        pruning: LlamaPruning.Pattern? = nil, pruneOutput: Bool = false, to output: String
    ) throws -> Llama {
        var rng = RandomGenerator(seed: seed)
        let model = try Llama(preset.configuration, maxSequence: 1, using: &rng)
        if let pruning { LlamaPruning.pruneByMagnitude(model, pattern: pruning, includeOutput: pruneOutput) }
        try write(model, tokenizer: try Llama3Tokenizer(path: tokenizer), type: type, to: output)
        return model
    }
}
