import ArgumentParser
import CoppiceDistributed
import CoppiceRec
import CoppiceRuns
import Foundation

struct DLRMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlrm",
        abstract: "Train a DLRM on a chronological CTR dataset and report test NE, AUC, log loss, calibration and accuracy.",
        discussion: """
            Flag names follow facebookresearch/dlrm where they exist. MovieLens and synthetic: the first 90% of the examples \
            in time order train, the rest test. criteo-kaggle: the reference's split (7 equal days; days 1-6 train, the \
            second half of day 7 tests), streamed from a binary cache in chunks, so memory stays bounded. Hybrid-parallel \
            under mpirun (mpirun -np 2 .build/release/coppice dlrm ...): tables placed on ranks, MLPs data-parallel; rank 0 reports.
            """)

    @OptionGroup var dlrm: DLRMOptions
    @Option(name: .customLong("synthetic-rows"), help: "Examples of the synthetic stream.") var syntheticRows = 200_000
    @Option(name: .customLong("nepochs"), help: "Passes over the training part.") var epochs = 1
    @Option(name: .customLong("lr-decay-start-step"), help: "The reference's polynomial learning-rate decay: the step it starts at (default: none).")
    var decayStartStep: Int?
    @Option(name: .customLong("lr-num-decay-steps"), help: "With --lr-decay-start-step: steps over which the rate falls quadratically to 0.")
    var decaySteps = 0
    @Option(
        name: .customLong("data-seed"),
        help:
            "synthetic: the seed of the generated data (default: the seed of the run, so --seeds varies both; fixed, --seeds varies only the initialization)."
    )
    var dataSeed: UInt64?
    @Option(
        name: .customLong("amgp-phases"),
        help:
            "Alternate growth and pruning: comma-separated prune fractions of equal-length phases (AMGP ends dense: 0,0.5,0,0.5,0; prune-only: 0.5); empty: dense."
    )
    var phases = ""
    @Option(name: .customLong("amgp-phase-lengths"), help: "Relative lengths of the AMGP phases (default: equal), e.g. 0.1,0.2,0.1,0.2,0.1,0.2,0.1.")
    var phaseLengths = ""
    @Option(name: .customLong("amgp-regrowth"), help: "restore (previous weights) or fresh (new incoming, zero outgoing weights).")
    var regrowth: AlternateGrowthPruning.Regrowth = .restore
    @Option(
        name: .customLong("amgp-recipe"),
        help: "A JSON AMGP schedule ({\"phases\", \"phase_lengths\", \"regrowth\"}; docs/recipes/amgp-*.json); overrides the --amgp-* options.")
    var recipe: String?
    @Flag(help: "Run dense, AMGP (the schedule given), prune-only and a small dense model of AMGP's average FLOPs, and print the comparison.")
    var compare = false
    @Option(help: "With --compare: write a bar chart of NE, FLOPs and time (SVG) here.") var plot: String?
    @Option(help: "With --compare: run the four trainings this many rounds and report the median train time.") var repeats = 1
    @Option(
        help:
            "With --compare: seeds to compare on (initialization, and the data of the synthetic streams unless --data-seed), e.g. 0-9 or 0,1,2; prints each seed's table, the changes by seed and each method's mean paired change with its 95% interval (default: --seed)."
    )
    var seeds: String?
    @Option(help: "With --compare and several seeds: run the seeds in this many processes at once, the threads shared among them.") var jobs = 1
    @Option(
        name: .customLong("report-dir"),
        help: "With --compare: write summary.md, summary.csv (each method's paired means), seeds.csv (every run), report.json and seeds.svg here.")
    var reportDirectory: String?
    @Option(help: "Write a checkpoint (model, AMGP state, progress; atomically) to this safetensors file while training.") var checkpoint: String?
    @Option(name: .customLong("checkpoint-every"), help: "With --checkpoint: write it every N training steps.") var checkpointEvery = 500
    @Flag(help: "With --checkpoint: continue from the checkpoint if it exists (the same options and data), ending with the same results.")
    var resume = false
    @Option(name: .customLong("loss-log"), help: "Write every step's loss to this CSV (step,epoch,phase,learning_rate,loss).") var lossLog: String?
    @Option(help: "Result format.") var format: ReportFormat = .md

    func validate() throws {
        guard let fractions = numberList(phases), fractions.allSatisfy({ (0..<1).contains($0) }) else {
            throw ValidationError("--amgp-phases must be comma-separated fractions in [0, 1), got '\(phases)'")
        }
        guard let lengths = numberList(phaseLengths), lengths.isEmpty || (lengths.count == fractions.count && lengths.allSatisfy { $0 > 0 }) else {
            throw ValidationError("--amgp-phase-lengths must be one positive number per phase, got '\(phaseLengths)'")
        }
        guard decayStartStep == nil || (decayStartStep! >= 0 && decaySteps > 0) else {
            throw ValidationError(
                "--lr-decay-start-step needs a non-negative step and a positive --lr-num-decay-steps, got \(decayStartStep!) and \(decaySteps)")
        }
        guard epochs > 0, repeats > 0, checkpointEvery > 0, jobs > 0, syntheticRows > 10 else {
            throw ValidationError(
                "--nepochs, --repeats, --checkpoint-every and --jobs must be positive and --synthetic-rows more than 10; got \(epochs), \(repeats), \(checkpointEvery), \(jobs) and \(syntheticRows)"
            )
        }
        guard checkpoint != nil || !resume else { throw ValidationError("--resume needs --checkpoint PATH") }
        guard (checkpoint == nil && lossLog == nil) || !compare else {
            throw ValidationError("--checkpoint and --loss-log are for one training, not --compare")
        }
        guard seedList != nil else {
            throw ValidationError("--seeds must be comma-separated non-negative integers or ranges (0-9), each seed once, got '\(seeds ?? "")'")
        }
    }

    /// `--seeds` parsed (nil when malformed), or the run's `--seed`.
    var seedList: [UInt64]? {
        guard let seeds else { return [dlrm.seed] }
        return DLRMRun.seeds(parsing: seeds)
    }

    func run() throws {
        var run = DLRMRun(data: dlrm.data)
        (run.syntheticRows, run.dataSeed, run.bottomMLP, run.topMLP) = (syntheticRows, dataSeed, dlrm.bottomMLP, dlrm.topMLP(default: [64, 1]))
        (run.embeddingDimension, run.batchSize, run.learningRate, run.epochs) = (dlrm.embeddingDimension, dlrm.batchSize, dlrm.learningRate, epochs)
        (run.decayStartStep, run.decaySteps) = (decayStartStep, decaySteps)
        (run.seed, run.phases, run.phaseLengths, run.regrowth, run.amgpRecipe) = (
            dlrm.seed, numberList(phases) ?? [], numberList(phaseLengths) ?? [], regrowth, recipe
        )
        run.lossLog = lossLog
        run.checkpointing = checkpoint.map { DLRMCheckpointing(path: $0, everySteps: checkpointEvery, resume: resume, data: "") }
        run.communicator = try Communicator.world()  // under mpirun with several ranks: hybrid-parallel, rank 0 reporting
        let root = run.communicator!.isRoot, progress = { (line: String) in if root { note("dlrm: \(line)") } }
        guard compare else {
            let rows = try run.run(progress: progress)
            return root ? print(try format.render(rows)) : ()
        }
        let runs =
            jobs > 1 && seedList!.count > 1
            ? try SeedProcesses(seeds: seedList!, jobs: jobs).run() : try run.compare(seeds: seedList!, repeats: repeats, progress: progress)
        let title = "coppice dlrm --dataset \(dlrm.dataset.rawValue) --compare" + (seeds.map { " --seeds \($0)" } ?? "")
        try DLRMRun.writeComparison(runs, plot: plot, reportDirectory: reportDirectory, title: title)
        print(try DLRMRun.render(runs, format: format, perSeed: seeds != nil), terminator: "")
    }
}
