import ArgumentParser

@main
struct Coppice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coppice",
        abstract: "Train, prune and run sparse neural networks on CPU.",
        subcommands: [
            Train.self, Eval.self, Prune.self, SpatialWinogradCommand.self, WinogradCompare.self, DLRMCommand.self, OnlineCommand.self, Generate.self,
            Chat.self, Perplexity.self, Report.self, Convert.self, ConvertLlama.self, Bench.self, Doctor.self,
        ]
    )
}
