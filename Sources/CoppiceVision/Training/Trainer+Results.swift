import CoppiceDistributed
import CoppiceRuns
import Foundation

extension Trainer {
    /// `coppice train`: trains `configuration` into `outputDirectory` (default
    /// runs/<model>-<dataset>-seed<seed>) and returns the final numbers as result rows. Under `mpirun`
    /// with several ranks, data-parallel over them (progress from rank 0 only).
    public static func train(
        _ configuration: TrainingConfiguration, outputDirectory: String? = nil, resume: Bool = false,
        progress: TrainingProgress = .automatic()
    ) throws -> (rows: [BenchmarkResult], directory: String) {
        let c = configuration
        let directory = outputDirectory ?? "runs/\(c.model.rawValue)-\(c.dataset.rawValue)-seed\(c.seed)"
        let world = try Communicator.world()
        let parallel = world.size > 1 ? DataParallel(world) : nil
        let trainer = try Trainer(
            configuration: c, outputDirectory: directory, progress: world.isRoot ? progress : TrainingProgress(style: .silent), parallel: parallel)
        let history = try trainer.run(resume: resume)
        return (EpochRecord.resultRows(history, name: "\(c.model.rawValue) \(c.dataset.rawValue)"), directory)
    }

    /// `coppice eval`: a checkpoint written by `coppice train` evaluated on its dataset's test set
    /// (from `dataDirectory`, or where it was trained), as result rows.
    public static func evaluate(checkpoint path: String, dataDirectory: String? = nil) throws -> [BenchmarkResult] {
        let saved = try Checkpoint.read(from: path)
        var configuration = saved.configuration
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        let directory = (path as NSString).deletingLastPathComponent
        let trainer = try Trainer(
            configuration: configuration, outputDirectory: directory.isEmpty ? "." : directory,
            progress: TrainingProgress(style: .silent))
        try trainer.model.load(stateDict: saved.model)
        let (loss, accuracy) = trainer.evaluateTestSet()
        let name = "\(configuration.model.rawValue) \(configuration.dataset.rawValue) epoch \(saved.epoch)"
        return [
            BenchmarkResult(suite: "eval", case: name, metric: "test accuracy", unit: "%", value: 100 * accuracy),
            BenchmarkResult(suite: "eval", case: name, metric: "test loss", unit: "nats", value: loss),
        ]
    }
}
