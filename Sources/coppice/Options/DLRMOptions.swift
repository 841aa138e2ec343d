import ArgumentParser
import CoppiceRec

/// The options `dlrm` and `online` share: the dataset and the DLRM's shape and training (flag names
/// follow facebookresearch/dlrm).
struct DLRMOptions: ParsableArguments {
    @Option(
        help:
            "Dataset: movielens-100k (from .data/ml-100k), synthetic (the Criteo-schema generator, logistic truth), synthetic-teacher (its clicks from a wide random DLRM) or criteo-kaggle (--raw-data-file)."
    )
    var dataset: CTRDatasetName = .movieLens100K
    @Option(name: .customLong("raw-data-file"), help: "criteo-kaggle: the Kaggle train.txt (parsed once into PATH.cpcache next to it) or a .cpcache.")
    var rawDataFile: String?
    @Option(name: .customLong("max-ind-range"), help: "criteo-kaggle: categorical ids modulo this (rows per embedding table).")
    var maxIndexRange = 100_000
    @Option(name: .customLong("data-dir"), help: "Directory of ml-100k.{inter,user,item} (default: .data/ml-100k).") var dataDirectory: String?
    @Option(
        name: .customLong("arch-mlp-bot"),
        help: "Bottom MLP; the first width is the dense feature count (default: dlrm D-64-16, online D-128-64-16, with 16 the embedding dimension).")
    var bottom: String?
    @Option(name: .customLong("arch-mlp-top"), help: "Top MLP after the interaction (default: dlrm 64-1, online 256-128-1).") var top: String?
    @Option(name: .customLong("arch-sparse-feature-size"), help: "Embedding dimension.") var embeddingDimension = 16
    @Option(name: .customLong("mini-batch-size"), help: "Mini-batch size.") var batchSize = 128
    @Option(name: .customLong("learning-rate"), help: "SGD learning rate.") var learningRate: Float = 0.1
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func validate() throws {
        do { try data.validate() } catch { throw ValidationError(error.description) }
        guard top.map({ DLRMConfiguration.layers($0) != nil }) ?? true, bottom.map({ DLRMConfiguration.layers($0) != nil }) ?? true else {
            throw ValidationError("--arch-mlp-bot and --arch-mlp-top are dash-separated positive widths, e.g. 13-512-256-64-16")
        }
        guard batchSize > 0 else { throw ValidationError("--mini-batch-size must be positive, got \(batchSize)") }
        guard embeddingDimension > 0 else { throw ValidationError("--arch-sparse-feature-size must be positive, got \(embeddingDimension)") }
        guard maxIndexRange > 0 else { throw ValidationError("--max-ind-range must be positive, got \(maxIndexRange)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw ValidationError("--learning-rate must be positive and finite, got \(learningRate)")
        }
    }

    var data: CTRDataOptions {
        CTRDataOptions(
            dataset: dataset, rawDataFile: rawDataFile, maxIndexRange: maxIndexRange, dataDirectory: dataDirectory,
            log: { note("coppice: " + $0) })
    }

    var bottomMLP: [Int]? { bottom.flatMap(DLRMConfiguration.layers) }

    func topMLP(default widths: [Int]) -> [Int] { top.flatMap(DLRMConfiguration.layers) ?? widths }
}
