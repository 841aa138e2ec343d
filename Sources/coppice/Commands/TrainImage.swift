import ArgumentParser
import CoppiceDistributed
import CoppiceVision

struct TrainImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Train an image classifier; writes checkpoints, logs, curves and a report into --output.",
        discussion: """
            Data-parallel under mpirun: mpirun -np 2 .build/release/coppice train image (each rank trains on a shard of every \
            batch, with the host's cores shared among its ranks; rank 0 writes).
            """)

    @OptionGroup var options: TrainingOptions
    @Option(help: "Output directory (default: runs/<model>-<dataset>-seed<seed>).") var output: String?

    func run() throws {
        let (rows, directory) = try Trainer.train(options.configuration, outputDirectory: output, resume: options.resume, progress: options.progress)
        guard try Communicator.world().isRoot else { return }
        print(try options.format.render(rows))
        note("results in \(directory)/ (report.html, curves.svg, log.csv, checkpoint.safetensors)")
    }
}
