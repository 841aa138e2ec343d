/// Where a CTR run's examples come from: a dataset by name and the files it needs.
public struct CTRDataOptions: Sendable {
    public static let movieLensDirectory = ".data/ml-100k"

    public var dataset: CTRDatasetName
    /// criteo-kaggle: the Kaggle train.txt (parsed once into PATH.cpcache next to it) or a .cpcache.
    public var rawDataFile: String?
    /// criteo-kaggle: categorical ids modulo this (rows per embedding table).
    public var maxIndexRange: Int
    /// movielens-100k: the directory of ml-100k.{inter,user,item} (nil: `movieLensDirectory`).
    public var dataDirectory: String?
    /// Hears about a cache being built.
    public var log: @Sendable (String) -> Void

    public init(
        dataset: CTRDatasetName, rawDataFile: String? = nil, maxIndexRange: Int = 100_000, dataDirectory: String? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        (self.dataset, self.rawDataFile, self.maxIndexRange, self.dataDirectory, self.log) = (dataset, rawDataFile, maxIndexRange, dataDirectory, log)
    }

    /// Checks what the dataset needs (a file for criteo-kaggle, a positive id range).
    public func validate() throws(CTRDataError) {
        if dataset == .criteoKaggle && rawDataFile == nil { throw .invalidArgument("--dataset criteo-kaggle needs --raw-data-file PATH") }
        guard maxIndexRange > 0 else { throw .invalidArgument("--max-ind-range must be positive, got \(maxIndexRange)") }
    }

    /// The Criteo file as a stream of `chunksPerDay` chunks a day.
    func criteoStream(chunksPerDay: Int) throws -> CriteoCacheStream {
        try validate()
        return try CriteoCacheStream.open(path: rawDataFile!, tableSize: maxIndexRange, chunksPerDay: chunksPerDay, log: log)
    }
}
