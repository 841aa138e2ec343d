import CoppiceData
import CoppiceDistributed
import CoppiceFormats
import CoppiceRuns
import Foundation

/// `coppice online` as a library call: online training on a chronological stream with dense-to-sparse
/// serving models (Ye et al. 2020), its logs and checkpoint in `output`, and a summary with the
/// inference speed of the sparse serving models (summary.md, ne.svg).
public struct OnlineRun: Sendable {
    public enum SummaryFormat: String, CaseIterable, Sendable { case md, json }

    public var data: CTRDataOptions
    /// MovieLens: chunk length in days (unless `chunkSize` is given).
    public var chunkDays = 7
    /// Examples per chunk (synthetic: default 50,000; MovieLens: instead of days).
    public var chunkSize: Int?
    /// Criteo: chunks per each of the 7 days of the reference split.
    public var chunksPerDay = 1
    /// Stop after this many chunks (nil: the end of the stream; 24 for the synthetic stream).
    public var chunks: Int?
    public var drift: SyntheticCTR.Drift = .abrupt(every: 200_000)
    public var pretrainChunks = 4
    public var sparsity = 0.7
    public var variants: [OnlineVariant] = []
    public var learnedSteps = 150
    /// Bottom MLP widths; nil: D-128-64-E.
    public var bottomMLP: [Int]?
    public var topMLP = [256, 128, 1]
    public var embeddingDimension = 16
    public var batchSize = 128
    public var learningRate: Float = 0.1
    public var chunkEpochs = 1
    public var checkpointEvery = 1
    public var seed: UInt64 = 0
    public var output = "runs/online"
    public var resume = false
    /// Over the ranks of an MPI run: every model hybrid-parallel (see `OnlineTraining`).
    public var communicator: Communicator?

    public init(data: CTRDataOptions) { self.data = data }

    /// What a run printed and wrote.
    public struct Outcome: Sendable {
        public var summary: OnlineReport.Summary
        /// summary.md's text.
        public var markdown: String

        public func render(_ format: SummaryFormat) throws -> String {
            guard format == .json else { return markdown }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: try encoder.encode(summary), as: UTF8.self)
        }
    }

    /// The stream and the description a checkpoint is checked against on resume.
    public func stream() throws -> (stream: CTRStream, description: String) {
        switch data.dataset {
        case .synthetic, .syntheticTeacher:
            let size = chunkSize ?? 50_000
            let teacher = data.dataset == .syntheticTeacher ? SyntheticTeacher() : nil
            return (
                try SyntheticCTRStream(try SyntheticCTR(drift: drift, teacher: teacher, seed: seed), chunkSize: size, chunks: chunks ?? 24),
                "\(data.dataset.rawValue) drift \(drift), \(size) examples per chunk, seed \(seed)"
            )
        case .criteoKaggle:
            let stream = try data.criteoStream(chunksPerDay: chunksPerDay)
            return (stream, "criteo-kaggle \(stream.file.path), \(chunksPerDay) chunks per day, ids mod \(data.maxIndexRange)")
        case .movieLens100K:
            let movies = try MovieLens100K.load(directory: data.dataDirectory ?? CTRDataOptions.movieLensDirectory)
            let chunking: CTRChunking = chunkSize.map { .examples($0) } ?? .days(chunkDays)
            return (try InMemoryCTRStream(movies, chunking: chunking), "movielens-100k, chunks of \(chunking)")
        }
    }

    /// Trains, measures the serving models' inference and writes summary.md and ne.svg; `onChunk`
    /// hears each streamed chunk's records. Over several ranks, rank 0 reports; the others return nil.
    public func run(onChunk: @escaping ([OnlineRecord]) -> Void = { _ in }) throws -> Outcome? {
        let (stream, description) = try stream()
        var configuration = OnlineConfiguration(
            model: DLRMConfiguration(
                bottomMLP: bottomMLP ?? [stream.denseCount, 128, 64, embeddingDimension], topMLP: topMLP,
                embeddingDimension: embeddingDimension, tableSizes: stream.tableSizes),
            stream: description)
        configuration.learningRate = learningRate
        configuration.batchSize = batchSize
        configuration.epochsPerChunk = chunkEpochs
        configuration.pretrainChunks = pretrainChunks
        configuration.chunks = chunks
        configuration.sparsity = sparsity
        configuration.variants = variants
        configuration.learned.steps = learnedSteps
        configuration.checkpointEvery = checkpointEvery
        configuration.seed = seed
        let training = try OnlineTraining(
            configuration: configuration, stream: stream, outputDirectory: output, resume: resume, communicator: communicator)
        training.onChunk = onChunk
        let records = try training.run()
        guard communicator?.isRoot ?? true else { return nil }
        let rows = OnlineReport.rows(records)
        let last = try stream.chunk(min(configuration.chunks ?? Int.max, stream.chunkCount ?? Int.max) - 1)
        let speeds = try OnlineReport.inferenceSpeed(training, sample: last, batchSizes: [1, 512])
        let title = "\(description); MLP sparsity \(sparsity)"
        let markdown =
            "# Online run: \(title)\n\n" + OnlineReport.markdown(rows)
            + "\nInference, sparse serving model (CSR MLPs) against the dense model:\n\n" + OnlineReport.speedMarkdown(speeds)
        try AtomicFile.write(Data(markdown.utf8), to: output + "/summary.md")
        try AtomicFile.write(Data(OnlineReport.svg(records, title: title).utf8), to: output + "/ne.svg")
        return Outcome(summary: OnlineReport.Summary(rows: rows, inference: speeds), markdown: markdown)
    }
}
