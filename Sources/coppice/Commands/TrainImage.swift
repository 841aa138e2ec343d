import ArgumentParser
import CoppiceVision

struct TrainImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Train an image classifier; writes checkpoints, logs, curves and a report into --output.")

    @OptionGroup var options: TrainingOptions
    @Option(help: "Output directory (default: runs/<model>-<dataset>-seed<seed>).") var output: String?

    func run() throws {
        let (rows, directory) = try Trainer.train(options.configuration, outputDirectory: output, resume: options.resume, progress: options.progress)
        print(try options.format.render(rows))
        note("results in \(directory)/ (report.html, curves.svg, log.csv, checkpoint.safetensors)")
    }
}
