import ArgumentParser
import CoppiceRuns
import CoppiceVision
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint, or a run's model in its inference form, on its dataset's test set.",
        discussion: """
            A run directory (config.json and model.safetensors, as `coppice spatial-winograd`, `prune` and \
            `train` write) is evaluated through the model `coppice report` measures: BatchNorm folded, each \
            layer on its fastest path (sparse kernels where they won) at --batch-size.
            """)

    @Argument(help: "A checkpoint.safetensors written by `coppice train`, or a run directory.") var checkpoint: String
    @Option(name: .customLong("data-dir"), help: "Directory with the dataset's files (default: as when trained).")
    var dataDirectory: String?
    @Option(name: .customLong("batch-size"), help: "Batch size of a run directory's inference model.") var batchSize = 32
    @Option(help: "Result format.") var format: ReportFormat = .md

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: checkpoint, isDirectory: &isDirectory), isDirectory.boolValue {
            print(try format.render(SparsityAnalysis.evaluate(runDirectory: checkpoint, batchSize: batchSize, dataDirectory: dataDirectory)))
            return
        }
        print(try format.render(Trainer.evaluate(checkpoint: checkpoint, dataDirectory: dataDirectory)))
    }
}
