import ArgumentParser
import CoppiceData
import CoppiceFormats
import CoppiceRec
import CoppiceTraining
import Foundation

extension ServingPruning: ExpressibleByArgument {}

struct OnlineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Online training on a chronological stream with dense-to-sparse serving models (Ye et al. 2020).",
        discussion: """
        The dense model pre-trains on the first chunks; then every chunk is first scored by every model (progressive \
        validation), the dense model trains on it, and each sparse serving model is either regenerated from the dense \
        model or trains on the chunk with its masks. Writes metrics.csv, metrics.jsonl, ne.svg, summary.md and \
        checkpoint.safetensors to --output (Criteo: the 7 days of the reference split, each in --chunks-per-day chunks); --resume continues from the checkpoint with identical metrics.
        Examples:
          coppice online --dataset movielens-100k --chunk-days 7 --sparsity 0.7
          coppice online --dataset synthetic --drift abrupt:200000 --chunk-size 50000 --chunks 16
          coppice online --dataset criteo-kaggle --raw-data-file train.txt --chunks-per-day 4 --pretrain-chunks 12
        """)

    @Option(help: "movielens-100k, synthetic or criteo-kaggle.") var dataset = "movielens-100k"
    @Option(name: .customLong("raw-data-file"), help: "criteo-kaggle: the Kaggle train.txt (parsed once into PATH.cpcache next to it) or a .cpcache.")
    var data: String?
    @Option(name: .customLong("data-dir"), help: "Directory of ml-100k.{inter,user,item}.") var dataDirectory = ".data/ml-100k"
    @Option(name: .customLong("chunk-days"), help: "MovieLens chunk length in days (weekly by default).") var chunkDays = 7
    @Option(name: .customLong("chunk-size"), help: "Examples per chunk (synthetic; MovieLens when given instead of days).")
    var chunkSize: Int?
    @Option(name: .customLong("chunks-per-day"), help: "Criteo: chunks per each of the 7 days of the reference split.") var chunksPerDay = 1
    @Option(help: "Stop after this many chunks in all (default: the end of the stream; 24 for the synthetic stream, which has none).") var chunks: Int?
    @Option(help: "Synthetic drift: none, abrupt:N (new truth every N examples) or gradual:N.") var drift = "abrupt:200000"
    @Option(name: .customLong("max-ind-range"), help: "Criteo: categorical ids modulo this (the embedding rows per table).")
    var maxIndexRange = 100_000
    @Option(name: .customLong("pretrain-chunks"), help: "Chunks the dense model trains on before streaming.") var pretrainChunks = 4
    @Option(help: "Fraction of MLP weights the serving models remove.") var sparsity = 0.7
    @Option(help: "Serving schedules, comma-separated: r1, r2, r4 (regenerate every r chunks), once (r = ∞), adaptive:DELTA (regenerate when the serving NE exceeds the dense NE by DELTA).")
    var schedules = "r1,r2,r4,once,adaptive:0.005"
    @Option(help: "Mask choices, comma-separated: learned (per-layer thresholds under the budget), uniform, global.")
    var pruning = "learned"
    @Option(name: .customLong("learned-steps"), help: "Steps of threshold learning at each regeneration.") var learnedSteps = 150
    @Option(name: .customLong("arch-mlp-bot"), help: "Bottom MLP; the first width is the dense feature count (default: D-128-64-16).")
    var bottom: String?
    @Option(name: .customLong("arch-mlp-top"), help: "Top MLP after the interaction.") var top = "256-128-1"
    @Option(name: .customLong("arch-sparse-feature-size"), help: "Embedding dimension.") var embeddingDimension = 16
    @Option(name: .customLong("mini-batch-size"), help: "Mini-batch size.") var batchSize = 128
    @Option(name: .customLong("learning-rate"), help: "SGD learning rate.") var learningRate: Float = 0.1
    @Option(name: .customLong("chunk-epochs"), help: "Passes over each chunk after it is scored.") var chunkEpochs = 1
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint after every N streamed chunks (0: at the end only).") var checkpointEvery = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Output directory.") var output = "runs/online"
    @Flag(help: "Continue from OUTPUT/checkpoint.safetensors.") var resume = false
    @Option(help: "Summary format on stdout: md or json.") var format = "md"

    func validate() throws {
        guard ["movielens-100k", "synthetic", "criteo-kaggle"].contains(dataset) else {
            throw ValidationError("--dataset must be movielens-100k, synthetic or criteo-kaggle, got \(dataset)")
        }
        if dataset == "criteo-kaggle" && data == nil { throw ValidationError("--dataset criteo-kaggle needs --raw-data-file PATH") }
        guard (0..<1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1), got \(sparsity)") }
        guard (try? variants()) != nil else { throw ValidationError("--schedules takes r<N>, once or adaptive:<delta>; --pruning takes learned, uniform, global") }
        guard Self.drift(drift) != nil else { throw ValidationError("--drift must be none, abrupt:N or gradual:N, got \(drift)") }
        guard ["md", "json"].contains(format) else { throw ValidationError("--format must be md or json") }
        guard chunkDays > 0, chunksPerDay > 0, chunkEpochs > 0, maxIndexRange > 0, learnedSteps >= 0, chunkSize.map({ $0 > 0 }) ?? true, chunks.map({ $0 > 1 }) ?? true else {
            throw ValidationError("chunk sizes, counts and --max-ind-range must be positive")
        }
        guard DLRMConfiguration.layers(top) != nil, bottom.map({ DLRMConfiguration.layers($0) != nil }) ?? true else {
            throw ValidationError("--arch-mlp-bot and --arch-mlp-top are dash-separated positive widths, e.g. 13-512-256-64-16")
        }
    }

    func variants() throws -> [OnlineVariant] {
        let prunings = try pruning.split(separator: ",").map { name -> ServingPruning in
            guard let p = ServingPruning(rawValue: name.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("unknown pruning \(name)") }
            return p
        }
        return try prunings.flatMap { p in
            try schedules.split(separator: ",").map { text -> OnlineVariant in
                guard let v = OnlineVariant.schedule(text.trimmingCharacters(in: .whitespaces), pruning: p) else { throw ValidationError("unknown schedule \(text)") }
                return v
            }
        }
    }

    static func drift(_ text: String) -> SyntheticCTR.Drift? {
        if text == "none" { return SyntheticCTR.Drift.none }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[1]), n > 0 else { return nil }
        switch parts[0] {
        case "abrupt": return .abrupt(every: n)
        case "gradual": return .gradual(period: n)
        default: return nil
        }
    }

    func stream() throws -> (CTRStream, String) {
        switch dataset {
        case "synthetic":
            let size = chunkSize ?? 50_000
            return (SyntheticCTRStream(SyntheticCTR(drift: Self.drift(drift)!, seed: seed), chunkSize: size, chunks: chunks ?? 24),
                    "synthetic drift \(drift), \(size) examples per chunk, seed \(seed)")
        case "criteo-kaggle":
            let stream = try criteoStream(path: data!, maxIndexRange: maxIndexRange, chunksPerDay: chunksPerDay)
            return (stream, "criteo-kaggle \(stream.file.path), \(chunksPerDay) chunks per day, ids mod \(maxIndexRange)")
        default:
            let movies = try MovieLens100K.load(directory: dataDirectory)
            let chunking: CTRChunking = chunkSize.map { .examples($0) } ?? .days(chunkDays)
            return (InMemoryCTRStream(movies, chunking: chunking), "movielens-100k, chunks of \(chunking)")
        }
    }

    func run() throws {
        let (stream, description) = try stream()
        let dense = stream.denseCount
        var configuration = OnlineConfiguration(
            model: DLRMConfiguration(bottomMLP: DLRMConfiguration.layers(bottom ?? "\(dense)-128-64-\(embeddingDimension)")!,
                                     topMLP: DLRMConfiguration.layers(top)!, embeddingDimension: embeddingDimension,
                                     tableSizes: stream.tableSizes),
            stream: description)
        configuration.learningRate = learningRate
        configuration.batchSize = batchSize
        configuration.epochsPerChunk = chunkEpochs
        configuration.pretrainChunks = pretrainChunks
        configuration.chunks = chunks
        configuration.sparsity = sparsity
        configuration.variants = try variants()
        configuration.learned.steps = learnedSteps
        configuration.checkpointEvery = checkpointEvery
        configuration.seed = seed
        let training = try OnlineTraining(configuration: configuration, stream: stream, outputDirectory: output, resume: resume)
        training.onChunk = { rows in
            let dense = rows.first?.ne ?? .nan
            let worst = rows.dropFirst().compactMap(\.ne).max() ?? .nan
            FileHandle.standardError.write(Data(String(format: "online: chunk %d: %d examples, dense NE %.4f, worst serving NE %.4f\n",
                                                        rows.first?.chunk ?? 0, rows.first?.examples ?? 0, dense, worst).utf8))
        }
        let records = try training.run()
        let rows = OnlineReport.rows(records)
        let last = try stream.chunk(min(configuration.chunks ?? Int.max, stream.chunkCount ?? Int.max) - 1)
        let speeds = try OnlineReport.inferenceSpeed(training, sample: last, batchSizes: [1, 512])
        let title = "\(description); MLP sparsity \(sparsity)"
        let summary = "# Online run: \(title)\n\n" + OnlineReport.markdown(rows) + "\nInference, sparse serving model (CSR MLPs) against the dense model:\n\n" + OnlineReport.speedMarkdown(speeds)
        try AtomicFile.write(Data(summary.utf8), to: output + "/summary.md")
        try AtomicFile.write(Data(OnlineReport.svg(records, title: title).utf8), to: output + "/ne.svg")
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(OnlineReport.Summary(rows: rows, inference: speeds)), as: UTF8.self))
        } else {
            print(summary)
        }
    }
}
