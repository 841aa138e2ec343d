import ArgumentParser
import CoppiceBench
import CoppiceData
import CoppiceFormats
import CoppiceRec
import CoppiceTraining

extension AlternateGrowthPruning.Regrowth: ExpressibleByArgument {}
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

    @Option(help: "movielens-100k (from .data/ml-100k), synthetic (the Criteo-schema generator) or criteo-kaggle (--raw-data-file).")
    var dataset = "movielens-100k"
    @Option(name: .customLong("raw-data-file"), help: "criteo-kaggle: the Kaggle train.txt (parsed once into PATH.cpcache next to it) or a .cpcache.")
    var rawDataFile: String?
    @Option(name: .customLong("max-ind-range"), help: "criteo-kaggle: categorical ids modulo this (rows per embedding table).")
    var maxIndexRange = 100_000
    @Option(name: .customLong("data-dir"), help: "Directory of ml-100k.{inter,user,item} (default: .data/ml-100k).") var dataDirectory: String?
    @Option(name: .customLong("synthetic-rows"), help: "Examples of the synthetic stream.") var syntheticRows = 200_000
    @Option(name: .customLong("arch-mlp-bot"), help: "Bottom MLP; the first width is the dense feature count (default: D-64-16).")
    var bottom: String?
    @Option(name: .customLong("arch-mlp-top"), help: "Top MLP after the interaction.") var top = "64-1"
    @Option(name: .customLong("arch-sparse-feature-size"), help: "Embedding dimension.") var embeddingDimension = 16
    @Option(name: .customLong("mini-batch-size"), help: "Mini-batch size.") var batchSize = 128
    @Option(name: .customLong("learning-rate"), help: "SGD learning rate.") var learningRate: Float = 0.1
    @Option(name: .customLong("nepochs"), help: "Passes over the training part.") var epochs = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("data-seed"), help: "synthetic: the seed of the generated data (default: the seed of the run, so --seeds varies both; fixed, --seeds varies only the initialization).")
    var dataSeed: UInt64?
    @Option(name: .customLong("amgp-phases"), help: "Alternate growth and pruning: comma-separated prune fractions of equal-length phases (AMGP ends dense: 0,0.5,0,0.5,0; prune-only: 0.5); empty: dense.")
    var phases = ""
    @Option(name: .customLong("amgp-phase-lengths"), help: "Relative lengths of the AMGP phases (default: equal), e.g. 0.1,0.2,0.1,0.2,0.1,0.2,0.1.")
    var phaseLengths = ""
    @Option(name: .customLong("amgp-regrowth"), help: "restore (previous weights) or fresh (new incoming, zero outgoing weights).")
    var regrowth: AlternateGrowthPruning.Regrowth = .restore
    @Option(name: .customLong("amgp-recipe"), help: "A JSON AMGP schedule ({\"phases\", \"phase_lengths\", \"regrowth\"}; docs/recipes/amgp-*.json); overrides the --amgp-* options.")
    var recipe: String?
    @Flag(help: "Run dense, AMGP (the schedule given), prune-only and a small dense model of AMGP's average FLOPs, and print the comparison.")
    var compare = false
    @Option(help: "With --compare: write a bar chart of NE, FLOPs and time (SVG) here.") var plot: String?
    @Option(help: "With --compare: run the four trainings this many rounds and report the median train time.") var repeats = 1
    @Option(help: "With --compare: seeds to compare on (initialization, and the data of the synthetic stream unless --data-seed), e.g. 0,1,2; prints each seed's table and the changes by seed with their means (default: --seed).")
    var seeds: String?
    @Option(help: "Result format: md, csv or json.") var format: ReportFormat = .md

    func validate() throws {
        guard ["movielens-100k", "synthetic", "criteo-kaggle"].contains(dataset) else {
            throw ValidationError("--dataset must be movielens-100k, synthetic or criteo-kaggle, got \(dataset)")
        }
        if dataset == "criteo-kaggle" && rawDataFile == nil { throw ValidationError("--dataset criteo-kaggle needs --raw-data-file PATH") }
        guard DLRMConfiguration.layers(top) != nil, bottom.map({ DLRMConfiguration.layers($0) != nil }) ?? true else {
            throw ValidationError("--arch-mlp-bot and --arch-mlp-top are dash-separated positive widths, e.g. 13-512-256-64-16")
        }
        guard let fractions = numberList(phases), fractions.allSatisfy({ (0..<1).contains($0) }) else {
            throw ValidationError("--amgp-phases must be comma-separated fractions in [0, 1), got '\(phases)'")
        }
        guard let lengths = numberList(phaseLengths), lengths.isEmpty || (lengths.count == fractions.count && lengths.allSatisfy { $0 > 0 }) else {
            throw ValidationError("--amgp-phase-lengths must be one positive number per phase, got '\(phaseLengths)'")
        }
        guard batchSize > 0, epochs > 0, embeddingDimension > 0, syntheticRows > 10, maxIndexRange > 0, repeats > 0 else { throw ValidationError("sizes must be positive") }
        guard seedList != nil else { throw ValidationError("--seeds must be comma-separated non-negative integers, got '\(seeds ?? "")'") }
    }

    var seedList: [UInt64]? {
        guard let seeds else { return [seed] }
        let list = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        return list.isEmpty || list.contains(nil) ? nil : list.map { $0! }
    }

    func run() throws {
        var criteo: CriteoCacheStream?, data: CTRDataset?
        if dataset == "criteo-kaggle" {
            // Chunks of at most about 70,000 rows (a day of the full file is 6.5M), an even number a day.
            let file = try criteoStream(path: rawDataFile!, maxIndexRange: maxIndexRange, chunksPerDay: 1).file
            criteo = CriteoCacheStream(file: file, tableSize: maxIndexRange, chunksPerDay: 2 * max(1, min(64, file.count / 7 / 140_000)))
        } else {
            data = dataset == "synthetic" ? SyntheticCTR(seed: dataSeed ?? seed).dataset(rows: syntheticRows)
                : try MovieLens100K.load(directory: dataDirectory ?? ".data/ml-100k")
        }
        let dense = criteo?.denseCount ?? data!.denseNames.count
        let configuration = DLRMConfiguration(bottomMLP: DLRMConfiguration.layers(bottom ?? "\(dense)-64-\(embeddingDimension)")!,
                                              topMLP: DLRMConfiguration.layers(top)!, embeddingDimension: embeddingDimension,
                                              tableSizes: criteo?.tableSizes ?? data!.tableSizes)
        var training = DLRMTraining(configuration: configuration)
        training.batchSize = batchSize
        training.learningRate = learningRate
        training.epochs = epochs
        training.seed = seed
        training.phases = numberList(phases) ?? []
        training.phaseLengths = numberList(phaseLengths) ?? []
        training.regrowth = regrowth
        if let recipe {
            let loaded = try AMGPRecipe.load(from: recipe)
            training.phases = loaded.phases
            training.phaseLengths = loaded.phaseLengths ?? []
            training.regrowth = loaded.regrowth ?? regrowth
        }
        let progress = { (line: String) in FileHandle.standardError.write(Data("dlrm: \(line)\n".utf8)) }
        // Criteo: days 1-6 train, the second half of day 7 tests.
        func train(_ training: DLRMTraining, on data: CTRDataset?) throws -> DLRMTraining.Result {
            if let c = criteo {
                let k = c.chunksPerDay
                return try training.run(train: c, chunks: 0..<6 * k, test: c, chunks: 6 * k + k / 2..<7 * k, progress: progress).result
            }
            return try training.run(data!, progress: progress).result
        }
        if compare {
            var runs: [(seed: UInt64, rows: [AMGPComparison.Row])] = []
            for s in seedList! {
                var seeded = training
                seeded.seed = s
                let seededData = dataset == "synthetic" && dataSeed == nil && s != seed ? SyntheticCTR(seed: s).dataset(rows: syntheticRows) : data
                runs.append((s, try AMGPComparison.run(seeded, repeats: repeats) { try train($0, on: seededData) }))
            }
            if let plot { try AtomicFile.write(Data(AMGPComparison.svg(runs[0].rows, title: "coppice dlrm --dataset \(dataset) --compare").utf8), to: plot) }
            if format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let value = seeds == nil ? try encoder.encode(runs[0].rows) : try encoder.encode(runs.map { SeedRows(seed: $0.seed, rows: $0.rows) })
                print(String(decoding: value, as: UTF8.self))
            } else if format == .csv {
                print(AMGPComparison.csv(runs), terminator: "")
            } else if runs.count == 1 {
                print(AMGPComparison.markdown(runs[0].rows))
            } else {
                for run in runs { print("seed \(run.seed)\n\n" + AMGPComparison.markdown(run.rows)) }
                print(AMGPComparison.seedSummary(runs))
            }
            return
        }
        let result = try train(training, on: data)
        let name = "dlrm \(dataset) test"
        var rows: [BenchmarkResult] = [
            .init(suite: "dlrm", case: name, metric: "log loss", unit: "nats", value: result.test.logLoss),
            .init(suite: "dlrm", case: name, metric: "accuracy", unit: "%", value: 100 * result.test.accuracy),
            .init(suite: "dlrm", case: name, metric: "train time", unit: "s", value: result.seconds),
            .init(suite: "dlrm", case: name, metric: "training FLOPs", unit: "FLOP", value: 2 * result.trainingMultiplyAdds),
        ]
        if let ne = result.test.normalizedEntropy { rows.insert(.init(suite: "dlrm", case: name, metric: "NE", unit: "", value: ne), at: 0) }
        if let auc = result.test.auc { rows.insert(.init(suite: "dlrm", case: name, metric: "AUC", unit: "", value: auc), at: 1) }
        if let calibration = result.test.calibration { rows.append(.init(suite: "dlrm", case: name, metric: "calibration", unit: "", value: calibration)) }
        print(try format.render(rows))
    }
}

/// One seed's comparison in `--seeds … --format json`.
private struct SeedRows: Encodable {
    var seed: UInt64
    var rows: [AMGPComparison.Row]
}
