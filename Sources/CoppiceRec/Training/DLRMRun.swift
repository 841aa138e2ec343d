import CoppiceData
import CoppiceDistributed
import CoppiceFormats
import CoppiceRuns
import Foundation

/// `coppice dlrm` as a library call: a DLRM trained on a dataset chosen by name (flag names follow
/// facebookresearch/dlrm), alone or in the AMGP comparison over seeds.
///
/// MovieLens and synthetic: the first 90% of the examples in time order train, the rest test.
/// criteo-kaggle: the reference's split (7 equal days; days 1-6 train, the second half of day 7
/// tests), streamed from a binary cache in chunks, so memory stays bounded.
public struct DLRMRun: Sendable {
    public var data: CTRDataOptions
    /// Examples of the synthetic stream.
    public var syntheticRows = 200_000
    /// The synthetic data's seed (nil: the run's seed, so `compare(seeds:)` varies both).
    public var dataSeed: UInt64?
    /// Bottom MLP widths; nil: D-64-E (D dense features, E the embedding dimension).
    public var bottomMLP: [Int]?
    public var topMLP = [64, 1]
    public var embeddingDimension = 16
    public var batchSize = 128
    public var learningRate: Float = 0.1
    /// The reference's polynomial learning-rate decay: start step and length (nil: constant rate).
    public var decayStartStep: Int?
    public var decaySteps = 0
    public var epochs = 1
    public var seed: UInt64 = 0
    public var phases: [Double] = []
    public var phaseLengths: [Double] = []
    public var regrowth: AlternateGrowthPruning.Regrowth = .restore
    /// An AMGP recipe file whose schedule replaces `phases`, `phaseLengths` and (if it names one) `regrowth`.
    public var amgpRecipe: String?
    /// `run`'s checkpoint file (its `data` is filled in from the run's data options); not for `compare`.
    public var checkpointing: DLRMCheckpointing?
    /// `run` over the ranks of an MPI run, hybrid-parallel (see `HybridDLRM`); not for `compare`.
    public var communicator: Communicator?
    /// `run`'s loss of every step as CSV (`DLRMLossLog`; rank 0 writes it); not for `compare`.
    public var lossLog: String?

    public init(data: CTRDataOptions) { self.data = data }

    /// One seed's comparison rows.
    public struct SeedRows: Codable, Sendable {
        public var seed: UInt64
        public var rows: [AMGPComparison.Row]

        public init(seed: UInt64, rows: [AMGPComparison.Row]) { (self.seed, self.rows) = (seed, rows) }
    }

    /// Trains once and returns the test metrics as result rows.
    public func run(progress: (String) -> Void = { _ in }) throws -> [BenchmarkResult] {
        let source = try Source(self)
        var training = try training(source)
        training.communicator = communicator
        if let lossLog, communicator?.isRoot ?? true {
            let log = DLRMLossLog(path: lossLog)
            training.onStep = { try log.record($0) }
        }
        return Self.rows(try source.train(training, synthetic: nil, progress: progress), dataset: data.dataset)
    }

    /// Dense, AMGP (the schedule given), prune-only and a small dense model of AMGP's FLOPs, per seed
    /// (initialization, and the synthetic data unless `dataSeed` fixes it).
    public func compare(seeds: [UInt64], repeats: Int = 1, progress: (String) -> Void = { _ in }) throws -> [SeedRows] {
        let source = try Source(self)
        var base = try training(source)
        base.checkpointing = nil  // one file cannot stand for many trainings
        return try seeds.map { s in
            var seeded = base
            seeded.seed = s
            let synthetic = data.dataset.isSynthetic && dataSeed == nil && s != seed ? try syntheticData(seed: s) : nil
            return SeedRows(
                seed: s, rows: try AMGPComparison.run(seeded, repeats: repeats) { try source.train($0, synthetic: synthetic, progress: progress) })
        }
    }

    /// The comparison as `format`: json (one seed's rows, or the `AMGPSeedReport` when `perSeed`), csv
    /// (one line per run and seed), md (the table, or each seed's, the changes by seed and the report).
    public static func render(_ runs: [SeedRows], format: ReportFormat, perSeed: Bool) throws -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if perSeed { return try AMGPSeedReport(runs).json() }
            return String(decoding: try encoder.encode(runs.first?.rows ?? []), as: UTF8.self) + "\n"
        case .csv:
            return AMGPComparison.csv(runs.map { ($0.seed, $0.rows) })
        case .md:
            if runs.count == 1 { return AMGPComparison.markdown(runs[0].rows) + "\n" }
            return runs.map { "seed \($0.seed)\n\n" + AMGPComparison.markdown($0.rows) + "\n" }.joined()
                + AMGPComparison.seedSummary(runs.map { ($0.seed, $0.rows) }) + "\n" + AMGPSeedReport(runs).markdown()
        }
    }

    /// Seeds written as comma-separated entries "s" or "first-last" ("0-9", "0,2,5-7"); nil when an
    /// entry is not one, a range runs backwards or past 10,000 seeds, or a seed is named twice.
    public static func seeds(parsing text: String) -> [UInt64]? {
        var list: [UInt64] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = entry.split(separator: "-", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard let first = bounds.first ?? nil, let last = bounds.last ?? nil, bounds.count <= 2, first <= last, last - first < 10_000 else {
                return nil
            }
            list += Array(first...last)
        }
        return list.isEmpty || Set(list).count != list.count ? nil : list
    }

    /// The comparison's files, where asked for: the first seed's bar chart of NE, FLOPs and time at
    /// `plot` (SVG) and the report in `reportDirectory` (`writeReport`).
    public static func writeComparison(_ runs: [SeedRows], plot: String?, reportDirectory: String?, title: String) throws {
        if let plot, let first = runs.first { try AtomicFile.write(Data(AMGPComparison.svg(first.rows, title: title).utf8), to: plot) }
        if let reportDirectory { try writeReport(runs, to: reportDirectory, title: title) }
    }

    /// The comparison over seeds as files in `directory` (created if needed; each written atomically):
    /// summary.md, summary.csv (each method's paired means), seeds.csv (every run), report.json and
    /// seeds.svg (the plot, titled `title`).
    public static func writeReport(_ runs: [SeedRows], to directory: String, title: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let report = AMGPSeedReport(runs)
        let files = [
            ("summary.md", try render(runs, format: .md, perSeed: true)), ("summary.csv", report.csv()),
            ("seeds.csv", AMGPComparison.csv(runs.map { ($0.seed, $0.rows) })), ("report.json", try report.json()),
            ("seeds.svg", report.svg(title: title)),
        ]
        for (name, text) in files { try AtomicFile.write(Data(text.utf8), to: directory + "/" + name) }
    }

    /// The test metrics of one training as result rows.
    public static func rows(_ result: DLRMTraining.Result, dataset: CTRDatasetName) -> [BenchmarkResult] {
        let name = "dlrm \(dataset.rawValue) test"
        var rows: [BenchmarkResult] = [
            .init(suite: "dlrm", case: name, metric: "log loss", unit: "nats", value: result.test.logLoss),
            .init(suite: "dlrm", case: name, metric: "accuracy", unit: "%", value: 100 * result.test.accuracy),
            .init(suite: "dlrm", case: name, metric: "train time", unit: "s", value: result.seconds),
            .init(suite: "dlrm", case: name, metric: "training FLOPs", unit: "FLOP", value: 2 * result.trainingMultiplyAdds),
        ]
        if let ne = result.test.normalizedEntropy { rows.insert(.init(suite: "dlrm", case: name, metric: "NE", unit: "", value: ne), at: 0) }
        if let auc = result.test.auc { rows.insert(.init(suite: "dlrm", case: name, metric: "AUC", unit: "", value: auc), at: 1) }
        if let calibration = result.test.calibration {
            rows.append(.init(suite: "dlrm", case: name, metric: "calibration", unit: "", value: calibration))
        }
        return rows
    }

    /// The synthetic stream's first `syntheticRows` examples with data seed `seed`.
    func syntheticData(seed: UInt64) throws -> CTRDataset {
        try SyntheticCTR(teacher: data.dataset == .syntheticTeacher ? SyntheticTeacher() : nil, seed: seed).dataset(rows: syntheticRows)
    }

    func training(_ source: Source) throws -> DLRMTraining {
        let dense = source.denseCount
        let configuration = DLRMConfiguration(
            bottomMLP: bottomMLP ?? [dense, 64, embeddingDimension], topMLP: topMLP,
            embeddingDimension: embeddingDimension, tableSizes: source.tableSizes)
        var training = DLRMTraining(configuration: configuration)
        training.batchSize = batchSize
        training.learningRate = learningRate
        (training.decayStartStep, training.decaySteps) = (decayStartStep, decaySteps)
        training.epochs = epochs
        training.seed = seed
        training.phases = phases
        training.phaseLengths = phaseLengths
        training.regrowth = regrowth
        if var checkpointing {
            checkpointing.data =
                "\(data.dataset.rawValue) \(data.rawDataFile ?? data.dataDirectory ?? "") max-ind-range \(data.maxIndexRange) synthetic \(syntheticRows) rows, seed \(dataSeed ?? seed)"
            training.checkpointing = checkpointing
        }
        if let amgpRecipe {
            let loaded = try AMGPRecipe.load(from: amgpRecipe)
            training.phases = loaded.phases
            training.phaseLengths = loaded.phaseLengths ?? []
            training.regrowth = loaded.regrowth ?? regrowth
        }
        return training
    }

    /// The data of a run: an in-memory dataset, or the Criteo cache as a stream.
    struct Source {
        var dataset: CTRDataset?
        var criteo: CriteoCacheStream?

        init(_ run: DLRMRun) throws {
            switch run.data.dataset {
            case .criteoKaggle:
                // Chunks of at most about 70,000 rows (a day of the full file is 6.5M), an even number a day.
                let file = try run.data.criteoStream(chunksPerDay: 1).file
                criteo = try CriteoCacheStream(
                    file: file, tableSize: run.data.maxIndexRange,
                    chunksPerDay: 2 * max(1, min(64, file.count / 7 / 140_000)))
            case .synthetic, .syntheticTeacher:
                dataset = try run.syntheticData(seed: run.dataSeed ?? run.seed)
            case .movieLens100K:
                dataset = try MovieLens100K.load(directory: run.data.dataDirectory ?? CTRDataOptions.movieLensDirectory)
            }
        }

        var denseCount: Int { criteo?.denseCount ?? dataset?.denseNames.count ?? 0 }
        var tableSizes: [Int] { criteo?.tableSizes ?? dataset?.tableSizes ?? [] }

        /// Criteo: days 1-6 train, the second half of day 7 tests; otherwise the time-ordered split
        /// of `synthetic` (another seed's data) or the run's dataset.
        func train(_ training: DLRMTraining, synthetic: CTRDataset?, progress: (String) -> Void) throws -> DLRMTraining.Result {
            if let c = criteo {
                let k = c.chunksPerDay
                return try training.run(train: c, chunks: 0..<6 * k, test: c, chunks: 6 * k + k / 2..<7 * k, progress: progress).result
            }
            return try training.run(synthetic ?? dataset!, progress: progress).result
        }
    }
}
