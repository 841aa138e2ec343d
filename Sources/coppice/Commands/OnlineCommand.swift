import ArgumentParser
import CoppiceDistributed
import CoppiceRec
import Foundation

struct OnlineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Online training on a chronological stream with dense-to-sparse serving models (Ye et al. 2020).",
        discussion: """
            The dense model pre-trains on the first chunks; then every chunk is first scored by every model (progressive \
            validation), the dense model trains on it, and each sparse serving model is either regenerated from the dense \
            model or trains on the chunk with its masks. Writes metrics.csv, metrics.jsonl, ne.svg, summary.md and \
            checkpoint.safetensors to --output (Criteo: the 7 days of the reference split, each in --chunks-per-day chunks); --resume continues from the checkpoint with identical metrics. \
            Hybrid-parallel under mpirun (mpirun -np 2 .build/release/coppice online ...): every model's tables placed on ranks, \
            MLPs data-parallel, each rank scoring a shard of every chunk; rank 0 writes.
            Examples:
              coppice online --dataset movielens-100k --chunk-days 7 --sparsity 0.7
              coppice online --dataset synthetic --drift abrupt:200000 --chunk-size 50000 --chunks 16
              coppice online --dataset criteo-kaggle --raw-data-file train.txt --chunks-per-day 4 --pretrain-chunks 12
            """)

    @OptionGroup var dlrm: DLRMOptions
    @Option(name: .customLong("chunk-days"), help: "MovieLens chunk length in days (weekly by default).") var chunkDays = 7
    @Option(name: .customLong("chunk-size"), help: "Examples per chunk (synthetic; MovieLens when given instead of days).")
    var chunkSize: Int?
    @Option(name: .customLong("chunks-per-day"), help: "Criteo: chunks per each of the 7 days of the reference split.") var chunksPerDay = 1
    @Option(help: "Stop after this many chunks in all (default: the end of the stream; 24 for the synthetic stream, which has none).") var chunks:
        Int?
    @Option(help: "Synthetic drift: none, abrupt:N (new truth every N examples) or gradual:N.") var drift = "abrupt:200000"
    @Option(name: .customLong("pretrain-chunks"), help: "Chunks the dense model trains on before streaming.") var pretrainChunks = 4
    @Option(help: "Fraction of MLP weights the serving models remove.") var sparsity = 0.7
    @Option(
        help:
            "Serving schedules, comma-separated: r1, r2, r4 (regenerate every r chunks), once (r = ∞), adaptive:DELTA (regenerate when the serving NE exceeds the dense NE by DELTA)."
    )
    var schedules = "r1,r2,r4,once,adaptive:0.005"
    @Option(help: "Mask choices, comma-separated: learned (per-layer thresholds under the budget), uniform, global.")
    var pruning = "learned"
    @Option(name: .customLong("learned-steps"), help: "Steps of threshold learning at each regeneration.") var learnedSteps = 150
    @Option(name: .customLong("chunk-epochs"), help: "Passes over each chunk after it is scored.") var chunkEpochs = 1
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint after every N streamed chunks (0: at the end only).") var checkpointEvery = 1
    @Option(help: "Output directory.") var output = "runs/online"
    @Flag(help: "Continue from OUTPUT/checkpoint.safetensors if there is one.") var resume = false
    @Option(help: "Summary format on stdout.") var format: OnlineRun.SummaryFormat = .md

    func validate() throws {
        guard (0..<1).contains(sparsity) else { throw ValidationError("--sparsity must be in [0, 1), got \(sparsity)") }
        do { _ = try OnlineVariant.parse(schedules: schedules, pruning: pruning) } catch {
            throw ValidationError("--schedules and --pruning: \(error.description)")
        }
        guard pretrainChunks >= 0, checkpointEvery >= 0 else {
            throw ValidationError("--pretrain-chunks and --checkpoint-every must be 0 or more, got \(pretrainChunks) and \(checkpointEvery)")
        }
        guard SyntheticCTR.Drift(parsing: drift) != nil else { throw ValidationError("--drift must be none, abrupt:N or gradual:N, got \(drift)") }
        guard chunkDays > 0, chunksPerDay > 0, chunkEpochs > 0, learnedSteps >= 0, chunkSize.map({ $0 > 0 }) ?? true, chunks.map({ $0 > 1 }) ?? true
        else {
            throw ValidationError(
                "--chunk-days, --chunks-per-day, --chunk-epochs and --chunk-size must be positive, --learned-steps 0 or more and --chunks more than 1"
            )
        }
    }

    func run() throws {
        var run = OnlineRun(data: dlrm.data)
        (run.chunkDays, run.chunkSize, run.chunksPerDay, run.chunks, run.drift) = (
            chunkDays, chunkSize, chunksPerDay, chunks, SyntheticCTR.Drift(parsing: drift)!
        )
        (run.pretrainChunks, run.sparsity, run.variants, run.learnedSteps) = (
            pretrainChunks, sparsity, try OnlineVariant.parse(schedules: schedules, pruning: pruning), learnedSteps
        )
        (run.bottomMLP, run.topMLP, run.embeddingDimension, run.batchSize) = (
            dlrm.bottomMLP, dlrm.topMLP(default: [256, 128, 1]), dlrm.embeddingDimension, dlrm.batchSize
        )
        (run.learningRate, run.chunkEpochs, run.checkpointEvery, run.seed, run.output, run.resume) = (
            dlrm.learningRate, chunkEpochs, checkpointEvery, dlrm.seed, output, resume
        )
        run.communicator = try Communicator.world()  // under mpirun with several ranks: hybrid-parallel, rank 0 reporting
        let outcome = try run.run { rows in
            let dense = rows.first?.ne ?? .nan
            let worst = rows.dropFirst().compactMap(\.ne).max() ?? .nan
            note(
                String(
                    format: "online: chunk %d: %d examples, dense NE %.4f, worst serving NE %.4f",
                    rows.first?.chunk ?? 0, rows.first?.examples ?? 0, dense, worst))
        }
        if let outcome { print(try outcome.render(format)) }
    }
}
