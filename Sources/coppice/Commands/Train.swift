import ArgumentParser

/// `coppice train [image] …` (the default), `coppice train dlrm …` and `coppice train llama …`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Train a model: an image classifier (the default: coppice train --model …), a DLRM (coppice train dlrm …) or a Llama (coppice train llama …).",
        subcommands: [TrainImage.self, DLRMCommand.self, TrainLlama.self], defaultSubcommand: TrainImage.self)
}
