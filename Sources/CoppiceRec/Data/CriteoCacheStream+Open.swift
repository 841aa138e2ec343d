import Foundation

extension CriteoCacheStream {
    /// The Criteo Kaggle file as a stream of chunks: a `.cpcache` is opened as is; a text file (the
    /// Kaggle train.txt, or the headed CSV sample) is parsed once into PATH.cpcache next to it, and
    /// `log` hears about it.
    public static func open(path: String, tableSize: Int, chunksPerDay: Int, log: (String) -> Void = { _ in }) throws -> CriteoCacheStream {
        var cache = path
        if !path.hasSuffix(".cpcache") {
            cache = path + ".cpcache"
            if !FileManager.default.fileExists(atPath: cache) {
                log("building \(cache) (once)")
                let (rows, errors) = try CriteoCache.build(from: path, to: cache, reader: CriteoReader(tableSize: tableSize))
                guard rows > 0 else {
                    // No cache of nothing next to the file: the next run would take it for the data.
                    try? FileManager.default.removeItem(atPath: cache)
                    throw CTRDataError.invalidArgument(
                        "\(path): no line is a Criteo row\(errors.first.map { " (first: \($0))" } ?? " (the file is empty)")")
                }
                log("\(rows) rows cached, \(errors.count) malformed rows skipped\(errors.first.map { " (first: \($0))" } ?? "")")
            }
        }
        return try CriteoCacheStream(file: try CriteoCache.File(path: cache), tableSize: tableSize, chunksPerDay: chunksPerDay)
    }
}
