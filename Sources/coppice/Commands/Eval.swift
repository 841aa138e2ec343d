import ArgumentParser
import CoppiceRuns
import CoppiceVision

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on its dataset's test set.")

    @Argument(help: "A checkpoint.safetensors written by `coppice train`.") var checkpoint: String
    @Option(name: .customLong("data-dir"), help: "Directory with the dataset's files (default: as when trained).")
    var dataDirectory: String?
    @Option(help: "Result format.") var format: ReportFormat = .md

    func run() throws {
        print(try format.render(Trainer.evaluate(checkpoint: checkpoint, dataDirectory: dataDirectory)))
    }
}
