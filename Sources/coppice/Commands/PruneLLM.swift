import ArgumentParser
import CoppiceBench
import CoppiceFormats
import CoppiceLLM
import Foundation

/// One-shot pruning of a Llama GGUF file (magnitude, Wanda or SparseGPT; unstructured or N:M) on
/// calibration text, written as a GGUF file, with the perplexity before and after on held-out text;
/// given a directory, also as a Hugging Face model (pruned matrices stored sparse), with the recipe and a
/// report of the pruned file's speed dense and sparse.
struct PruneLLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune-llm",
        abstract: "Prune a Llama GGUF file one-shot (magnitude, Wanda, SparseGPT; or structured, compacted) and write it as GGUF.",
        discussion: """
            Every block's q, k, v, o, gate, up and down, layer by layer on calibration sequences (each layer's inputs \
            from the layers before it already pruned). Example: coppice prune-llm --model \
            .data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --method wanda --sparsity 2:4 --output smollm2-wanda-2-4 \
            (a directory: model.gguf, the Hugging Face files with pruned matrices stored sparse, recipe.json, report.json, report.md; \
            or --output FILE.gguf for the model alone). \
            The model runs dequantized to F32 while it is pruned unless --weight-type says otherwise.
            """)

    @OptionGroup var llama: LlamaOptions
    @Option(help: "magnitude, wanda or sparsegpt.") var method: LlamaPruning.Method = .wanda
    @Option(help: "Unstructured sparsity (e.g. 0.5) or N:M, N weights kept of every M (2:4, 4:8).") var sparsity = "0.5"
    @Option(
        help: "Structured pruning with compaction instead: ffn-channels:F (remove fraction F of every block's FFN channels) or blocks:N.")
    var structured: String?
    @Option(help: "Calibration text file.") var calibration = ".data/austen/emma.txt"
    @Option(name: .customLong("calibration-sequences"), help: "Calibration sequences, taken evenly spaced through the text (the papers' 128).")
    var sequences = 128
    @Option(
        name: .customLong("sequence-length"), help: "Tokens per calibration sequence and perplexity window (default: 2048, or --context if smaller).")
    var length: Int?
    var sequenceLength: Int { length ?? min(2048, llama.context) }
    @Option(help: "Held-out text for the perplexity before and after (empty: none).") var eval = ".data/austen/persuasion.txt"
    @Option(name: .customLong("eval-tokens"), help: "Tokens of --eval scored, in windows of --sequence-length.") var evalTokens = 4096
    @Option(
        help:
            "A directory (a Hugging Face model, pruned matrices in sparse safetensors, with model.gguf, recipe.json, report.json, report.md) or a .gguf file."
    )
    var output: String
    @Option(
        name: .customLong("speed-tokens"),
        help: "With a directory --output: prompt tokens of the speed runs of the pruned file (a quarter as many generated); 0: none.")
    var speedTokens = 128
    @Option(help: "Storage of the pruned matrices: f32, f16, bf16, q8_0 or q4_0 (zeros stay exact).") var type: MatrixStorage = .f16

    func validate() throws {
        guard LlamaPruning.Pattern(sparsity) != nil else {
            throw ValidationError("--sparsity must be a fraction in (0, 1) or N:M with 0 < N < M, got '\(sparsity)'")
        }
        if let structured, LlamaStructuredPruning.Target(structured) == nil {
            throw ValidationError("--structured must be ffn-channels:F with 0 < F < 1 or blocks:N with N > 0, got '\(structured)'")
        }
        guard sequences > 0, evalTokens > 1, speedTokens >= 0, sequenceLength > 1, sequenceLength <= llama.context else {
            throw ValidationError(
                "--calibration-sequences must be positive, --eval-tokens above 1, --speed-tokens at least 0, --sequence-length "
                    + "from 2 to --context (\(llama.context)); got \(sequences), \(evalTokens), \(speedTokens), \(sequenceLength)")
        }
        guard llama.model.lowercased().hasSuffix(".gguf") else { throw ValidationError("--model must be a .gguf file") }
        guard type != .q4_1 else { throw ValidationError("--type q4_1 cannot hold pruned zeros (its minimum moves them); use f16 or q8_0") }
    }

    func run() throws {
        // F32 unless --weight-type says otherwise: a quantized file's rows quantize the activations too, moving scores.
        let (runtime, tokenizer) = try llama.load(defaultWeightType: .f32)
        guard let text = FileManager.default.contents(atPath: calibration) else { throw ValidationError("cannot read --calibration \(calibration)") }
        let ids = tokenizer.encode(String(decoding: text, as: UTF8.self))
        guard ids.count >= sequenceLength else {
            throw ValidationError("--calibration has \(ids.count) tokens, fewer than one sequence of \(sequenceLength)")
        }
        let calibrationSequences = LlamaPruning.evenlySpaced(ids, count: sequences, length: sequenceLength)
        var evalIDs: [Int] = []
        if !eval.isEmpty {
            guard let held = FileManager.default.contents(atPath: eval) else { throw ValidationError("cannot read --eval \(eval)") }
            evalIDs = Array(tokenizer.encode(String(decoding: held, as: UTF8.self), bos: true).prefix(evalTokens))
        }
        let before = evalIDs.isEmpty ? nil : try runtime.perplexity(evalIDs, context: sequenceLength).perplexity
        let pruning = LlamaPruning(method: method, pattern: LlamaPruning.Pattern(sparsity)!)
        let started = Date()
        var reports: [LlamaPruning.MatrixReport] = [], pruned = runtime, summary: String
        if let target = structured.flatMap(LlamaStructuredPruning.Target.init) {
            (pruned, summary) = try LlamaStructuredPruning(target: target).prune(runtime, calibration: calibrationSequences)
        } else {
            reports = try pruning.prune(runtime, calibration: calibrationSequences) { note("prune-llm: \($0)") }
            let zeros = reports.reduce(0.0) { $0 + $1.sparsity } / Double(max(reports.count, 1))
            summary = String(format: "%@ %@: %d matrices, mean sparsity %.2f%%", method.rawValue, sparsity, reports.count, 100 * zeros)
        }
        let seconds = Date().timeIntervalSince(started)
        let after = evalIDs.isEmpty ? nil : try pruned.perplexity(evalIDs, context: sequenceLength).perplexity
        let directory = output.lowercased().hasSuffix(".gguf") ? nil : output, modelPath = directory.map { $0 + "/model.gguf" } ?? output
        if let directory { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try LlamaGGUF.writePruned(from: llama.model, runtime: pruned, type: type.type, to: modelPath)
        if let directory { try LlamaCheckpoint.writePruned(pruned, gguf: try GGUFFile(path: llama.model).metadata, to: directory) }
        print(summary + String(format: ", pruned in %.1f s", seconds))
        if let before, let after {
            print(String(format: "perplexity on %d tokens of %@: %.3f dense, %.3f pruned", evalIDs.count, eval, before, after))
        }
        guard let directory else { return print("wrote \(output)") }
        let recipe = LlamaPruningReport.Recipe(
            model: llama.model, method: structured == nil ? method.rawValue : "structured", sparsity: structured ?? sparsity, storage: type.rawValue,
            calibration: calibration,
            calibrationSequences: sequences, sequenceLength: sequenceLength, dampening: pruning.dampening, blockSize: pruning.blockSize)
        var report = LlamaPruningReport(recipe: recipe, summary: summary, matrices: reports, pruningSeconds: seconds)
        if let before, let after {
            report.perplexity = .init(text: eval, tokens: evalIDs.count, window: sequenceLength, dense: before, pruned: after)
        }
        if speedTokens > 0 { (report.dense, report.sparse) = (try speed(modelPath, sparse: false), try speed(modelPath, sparse: true)) }
        try report.write(to: directory)
        print("wrote \(directory)/: model.gguf, config.json, model.safetensors, tokenizer.json, recipe.json, report.json, report.md")
    }
}
