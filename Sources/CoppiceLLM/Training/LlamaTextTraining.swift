import CoppiceFormats
import CoppiceTensor
import Foundation

/// `coppice train llama` as a library call: a small Llama trained from scratch on text files with
/// Meta's Llama 3 tokenizer (next-token prediction, AdamW), its held-out perplexity measured before
/// and after, saved as a Hugging Face directory with result.json (by rank 0 of a data-parallel run).
public struct LlamaTextTraining {
    public var textFiles: [String]
    public var heldOutFile: String
    public var tokenizer: String
    public var dimension = 128
    public var layers = 4
    public var heads = 4
    public var kvHeads = 2
    /// Feed-forward width (nil: the Llama rule for `dimension`).
    public var feedForward: Int?
    public var training = LanguageModelTraining()
    public var output = "runs/llama-austen"

    public init(textFiles: [String], heldOutFile: String, tokenizer: String) {
        (self.textFiles, self.heldOutFile, self.tokenizer) = (textFiles, heldOutFile, tokenizer)
    }

    /// Trains and saves; `log` hears the sizes at the start, `progress` each step's loss.
    public func run(log: (String) -> Void = { _ in }, progress: (Int, Float) -> Void = { _, _ in }) throws -> LanguageModelTraining.Result {
        let tok = try Llama3Tokenizer(path: tokenizer)
        func read(_ path: String) throws -> [Int] {
            guard let data = FileManager.default.contents(atPath: path) else { throw LlamaError.invalidInput("cannot read \(path)") }
            return tok.encode(String(decoding: data, as: UTF8.self), bos: true)
        }
        let train = try textFiles.flatMap { try read($0) }
        let held = try read(heldOutFile)
        var c = LlamaConfiguration(
            vocabularySize: tok.vocabularySize, hiddenSize: dimension, layers: layers, heads: heads, kvHeads: kvHeads,
            intermediateSize: feedForward ?? LlamaConfiguration.feedForwardSize(dimension: dimension, multiplier: nil, multipleOf: 32))
        c.tieWordEmbeddings = true
        c.maxPositions = training.sequenceLength
        var rng = RandomGenerator(seed: training.seed)
        let model = try Llama(c, maxSequence: training.sequenceLength, using: &rng)
        log("train llama: \(model.parameterCount()) parameters, \(train.count) training tokens, \(held.count) held-out")
        let result = try training.run(model, train: train, heldOut: held, progress: progress)
        guard training.parallel?.communicator.isRoot ?? true else { return result }
        try LlamaCheckpoint.save(model, to: output)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(result), to: output + "/result.json")
        return result
    }
}
