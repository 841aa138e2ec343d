import ArgumentParser
import CoppiceFormats
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
            second half of day 7 tests), streamed from a binary cache in chunks, so memory stays bounded.
            """)

    @OptionGroup var dlrm: DLRMOptions
    @Option(name: .customLong("synthetic-rows"), help: "Examples of the synthetic stream.") var syntheticRows = 200_000
    @Option(name: .customLong("nepochs"), help: "Passes over the training part.") var epochs = 1
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
            "With --compare: seeds to compare on (initialization, and the data of the synthetic stream unless --data-seed), e.g. 0,1,2; prints each seed's table and the changes by seed with their means (default: --seed)."
    )
    var seeds: String?
    @Option(help: "Write a checkpoint (model, AMGP state, progress; atomically) to this safetensors file while training.") var checkpoint: String?
    @Option(name: .customLong("checkpoint-every"), help: "With --checkpoint: write it every N training steps.") var checkpointEvery = 500
    @Flag(help: "With --checkpoint: continue from the checkpoint if it exists (the same options and data), ending with the same results.")
    var resume = false
    @Option(help: "Result format.") var format: ReportFormat = .md

    func validate() throws {
        guard let fractions = numberList(phases), fractions.allSatisfy({ (0..<1).contains($0) }) else {
            throw ValidationError("--amgp-phases must be comma-separated fractions in [0, 1), got '\(phases)'")
        }
        guard let lengths = numberList(phaseLengths), lengths.isEmpty || (lengths.count == fractions.count && lengths.allSatisfy { $0 > 0 }) else {
            throw ValidationError("--amgp-phase-lengths must be one positive number per phase, got '\(phaseLengths)'")
        }
        guard epochs > 0 else { throw ValidationError("--nepochs must be positive, got \(epochs)") }
        guard syntheticRows > 10 else { throw ValidationError("--synthetic-rows must be more than 10, got \(syntheticRows)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
        guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be positive, got \(checkpointEvery)") }
        guard checkpoint != nil || !resume else { throw ValidationError("--resume needs --checkpoint PATH") }
        guard checkpoint == nil || !compare else { throw ValidationError("--checkpoint is for one training, not --compare") }
        guard seedList != nil else { throw ValidationError("--seeds must be comma-separated non-negative integers, got '\(seeds ?? "")'") }
    }

    var seedList: [UInt64]? {
        guard let seeds else { return [dlrm.seed] }
        let list = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        return list.isEmpty || list.contains(nil) ? nil : list.map { $0! }
    }

    func run() throws {
        var run = DLRMRun(data: dlrm.data)
        (run.syntheticRows, run.dataSeed, run.bottomMLP, run.topMLP) = (syntheticRows, dataSeed, dlrm.bottomMLP, dlrm.topMLP(default: [64, 1]))
        (run.embeddingDimension, run.batchSize, run.learningRate, run.epochs) = (dlrm.embeddingDimension, dlrm.batchSize, dlrm.learningRate, epochs)
        (run.seed, run.phases, run.phaseLengths, run.regrowth, run.amgpRecipe) = (
            dlrm.seed, numberList(phases) ?? [], numberList(phaseLengths) ?? [], regrowth, recipe
        )
        run.checkpointing = checkpoint.map { DLRMCheckpointing(path: $0, everySteps: checkpointEvery, resume: resume, data: "") }
        let progress = { (line: String) in note("dlrm: \(line)") }
        guard compare else {
            print(try format.render(run.run(progress: progress)))
            return
        }
        let runs = try run.compare(seeds: seedList!, repeats: repeats, progress: progress)
        if let plot, let first = runs.first {
            try AtomicFile.write(
                Data(AMGPComparison.svg(first.rows, title: "coppice dlrm --dataset \(dlrm.dataset.rawValue) --compare").utf8), to: plot)
        }
        print(try DLRMRun.render(runs, format: format, perSeed: seeds != nil), terminator: "")
    }
}
