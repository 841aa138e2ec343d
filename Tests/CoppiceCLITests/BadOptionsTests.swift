import Foundation
import Testing

/// Numeric and named options out of their range are refused before anything runs, each with a message
/// naming the option (checked in the binary's parse-only mode, `COPPICE_CHECK_ARGUMENTS`, so the
/// commands' data is never loaded).
@Suite struct BadOptionsTests {
    static let cases: [(arguments: [String], names: String)] = [
        (["train", "--epochs", "0"], "epochs"), (["train", "--epochs=-1"], "epochs"), (["train", "--batch-size", "0"], "batch size"),
        (["train", "--lr", "nan"], "learning rate"), (["train", "--lr=-0.1"], "learning rate"), (["train", "--lr", "inf"], "learning rate"),
        (["train", "--weight-decay=-1"], "weight decay"), (["train", "--momentum", "2"], "momentum"),
        (["prune", "--sparsity", "1"], "--sparsity"), (["prune", "--sparsity=-0.1"], "--sparsity"), (["prune", "--sparsity", "1.5"], "--sparsity"),
        (["prune", "--report-batch-size", "0"], "--report-batch-size"), (["prune", "--pattern", "block:0x4"], "granularity"),
        (["spatial-winograd", "--epochs", "0"], "epochs"), (["spatial-winograd", "--linear-sparsity", "1"], "--linear-sparsity"),
        (["eval", "RUN", "--batch-size", "0"], "--batch-size"), (["report", "RUN", "--batch-size=-3"], "--batch-size"),
        (["train", "dlrm", "--nepochs", "0"], "--nepochs"), (["train", "dlrm", "--learning-rate=-1"], "--learning-rate"),
        (["train", "dlrm", "--learning-rate", "nan"], "--learning-rate"), (["train", "dlrm", "--mini-batch-size", "0"], "--mini-batch-size"),
        (["train", "dlrm", "--arch-sparse-feature-size", "0"], "--arch-sparse-feature-size"),
        (["train", "dlrm", "--max-ind-range", "0"], "--max-ind-range"),
        (["train", "dlrm", "--amgp-phases", "0,1.5"], "--amgp-phases"),
        (["train", "dlrm", "--checkpoint", "c.safetensors", "--checkpoint-every", "0"], "--checkpoint-every"),
        (["train", "dlrm", "--resume"], "--resume"), (["dlrm", "--compare", "--seeds", "3,1-4"], "--seeds"),
        (["dlrm", "--compare", "--seeds", "0-3", "--jobs", "0"], "--jobs"), (["dlrm", "--lr-decay-start-step", "5"], "--lr-num-decay-steps"),
        (["online", "--sparsity", "1"], "--sparsity"),
        (["online", "--learning-rate", "nan"], "--learning-rate"), (["online", "--chunk-days", "0"], "--chunk-days"),
        (["online", "--pretrain-chunks=-1"], "--pretrain-chunks"), (["online", "--drift", "sideways"], "--drift"),
        (["generate", "--model", "m", "--top-p", "2"], "top-p"), (["generate", "--model", "m", "--temperature=-1"], "temperature"),
        (["chat", "--model", "m", "--context", "0"], "--context"), (["perplexity", "--model", "m", "--text", "t", "--window", "1"], "--window"),
        (["perplexity", "--model", "m", "--text", "t", "--max-tokens=-1"], "--max-tokens"), (["bench", "conv", "--budget=-1"], "--budget"),
        (["convert-llama", "a", "b", "--type", "q9"], "--type"),
    ]

    @Test func eachBadOptionIsRefusedNamingIt() throws {
        let cli = CommandLineTests()
        for (arguments, names) in Self.cases {
            let result = try cli.run(arguments, environment: ["COPPICE_CHECK_ARGUMENTS": "1"])
            #expect(result.status == 64, "\(arguments): status \(result.status)")
            #expect(result.error.contains(names), "\(arguments): \(result.error)")
        }
        let good = try cli.run(["train", "--epochs", "1", "--lr", "0.01"], environment: ["COPPICE_CHECK_ARGUMENTS": "1"])
        #expect(good.status == 0 && good.output.isEmpty, "parse-only mode runs nothing: \(good.output)")
    }
}
