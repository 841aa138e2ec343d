import ArgumentParser
import CoppiceDistributed
import CoppiceLLM
import Foundation

struct TrainLlama: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llama",
        abstract: "Train a small Llama from scratch on text files (next-token prediction, AdamW); reports held-out perplexity before and after.",
        discussion:
            "Example: coppice train llama --text .data/austen/emma.txt,.data/austen/persuasion.txt --held-out .data/austen/northangerabbey.txt --minutes 3"
    )
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
        var run = LlamaTextTraining(textFiles: text.split(separator: ",").map(String.init), heldOutFile: heldOut, tokenizer: tokenizer)
        (run.dimension, run.layers, run.heads, run.kvHeads, run.feedForward, run.output) = (dim, layers, heads, kvHeads, ffn, output)
        (
            run.training.sequenceLength, run.training.batchSize, run.training.learningRate, run.training.steps, run.training.seconds,
            run.training.seed
        ) =
            (sequenceLength, batchSize, lr, steps, minutes * 60, seed)
        // Under mpirun with several ranks: data-parallel, rank 0 reporting and writing.
        let world = try Communicator.world()
        run.training.parallel = world.size > 1 ? DataParallel(world) : nil
        let result = try run.run(log: world.isRoot ? note : { _ in }) { step, loss in
            if step % 10 == 0 && world.isRoot { note(String(format: "step %d loss %.3f", step, loss)) }
        }
        guard world.isRoot else { return }
        print(
            String(
                format: "held-out perplexity %.1f at initialization → %.1f after %d steps (%.0f s, %d tokens a step); model in %@",
                result.initialPerplexity, result.finalPerplexity, result.steps, result.seconds, batchSize * sequenceLength, output))
    }
}
