import CoppiceData
import Foundation

/// The Criteo Kaggle file as a stream of chunks: a `.cpcache` is opened as is; a text file (the
/// Kaggle train.txt, or the headed CSV sample) is parsed once into PATH.cpcache next to it.
func criteoStream(path: String, maxIndexRange: Int, chunksPerDay: Int) throws -> CriteoCacheStream {
    var cache = path
    if !path.hasSuffix(".cpcache") {
        cache = path + ".cpcache"
        if !FileManager.default.fileExists(atPath: cache) {
            FileHandle.standardError.write(Data("coppice: building \(cache) (once)\n".utf8))
            let (rows, errors) = try CriteoCache.build(from: path, to: cache, reader: CriteoReader(tableSize: maxIndexRange))
            FileHandle.standardError.write(Data("coppice: \(rows) rows cached, \(errors.count) malformed rows skipped\(errors.first.map { " (first: \($0))" } ?? "")\n".utf8))
        }
    }
    return CriteoCacheStream(file: try CriteoCache.File(path: cache), tableSize: maxIndexRange, chunksPerDay: chunksPerDay)
}
