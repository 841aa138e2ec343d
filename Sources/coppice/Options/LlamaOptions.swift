import ArgumentParser
import CoppiceKernels
import CoppiceLLM

/// Options every command running a Llama shares.
struct LlamaOptions: ParsableArguments {
    @Option(help: "Hugging Face model directory (config.json, model.safetensors or sharded with model.safetensors.index.json) or a GGUF file.")
    var model: String
    @Option(
        help:
            "Meta's Llama 3 tokenizer.model or a tokenizer.json (default: a GGUF file's own vocabulary, else .data/llama3/tokenizer.model).")
    var tokenizer: String?
    @Option(name: [.customLong("context"), .customLong("ctx-size")], help: "Context length (KV cache size; per sequence when serving).")
    var context = 2048
    @Option(
        name: .customLong("weight-type"),
        help: "Weights at inference (Q8_0/Q4_0: widths in blocks of 32; default: f32, or a GGUF file's own types).")
    var weightType: WeightMatrix.Format?
    @Option(
        help:
            "auto: matrices with at least 25% zeros (pruned) run from their nonzeros, as bitmasks and packed values; off: every matrix dense."
    )
    var sparse: SparseWeights = .auto
    @Flag(
        name: .customLong("no-mmap"),
        help:
            "Copy a GGUF file's weights into memory instead of using them in place from its memory map (slower start, decode can be a few percent faster)."
    )
    var noMmap = false

    func validate() throws {
        guard context > 1 else { throw ValidationError("--context must be at least 2 tokens, got \(context)") }
    }

    /// The model and its tokenizer; `defaultWeightType` where `--weight-type` is not given (nil: the file's own types).
    func load(defaultWeightType: WeightMatrix.Format? = nil) throws -> (runtime: LlamaRuntime, tokenizer: any TextTokenizer) {
        try LlamaRuntime.load(
            model: model, tokenizer: tokenizer, context: context, weightType: weightType ?? defaultWeightType, sparse: sparse == .auto,
            mapped: !noMmap)
    }
}

/// Whether pruned matrices run from their nonzeros (`--sparse`).
enum SparseWeights: String, ExpressibleByArgument, CaseIterable { case auto, off }
