import Foundation

/// A Criteo cache (the Kaggle file in time order) as a stream: the reference's 7 equal "days", each
/// cut into `chunksPerDay` chunks, read from disk one chunk at a time.
public struct CriteoCacheStream: CTRStream {
    public let file: CriteoCache.File
    public let chunksPerDay: Int
    public let tableSize: Int
    public var denseCount: Int { CriteoRow.denseCount }
    public var tableSizes: [Int] { Array(repeating: tableSize, count: CriteoRow.sparseCount) }
    public var chunkCount: Int? { 7 * chunksPerDay }

    /// `tableSize` must be the one the cache was built with (`--max-ind-range`); ids are checked.
    public init(file: CriteoCache.File, tableSize: Int, chunksPerDay: Int = 1) throws(CTRDataError) {
        guard chunksPerDay > 0 && tableSize > 0 else {
            throw .invalidArgument("chunks per day and table size must be positive, got \(chunksPerDay) and \(tableSize)")
        }
        self.file = file
        self.tableSize = tableSize
        self.chunksPerDay = chunksPerDay
    }

    /// Rows of chunk `index`: the last chunk takes the remainder.
    func range(_ index: Int) -> Range<Int> {
        let perChunk = file.count / 7 / chunksPerDay
        let start = index * perChunk
        return start..<(index == 7 * chunksPerDay - 1 ? file.count : start + perChunk)
    }

    public func chunkSize(_ index: Int) -> Int { range(index).count }

    public func chunk(_ index: Int) throws -> [CTRExample] {
        let start = range(index).lowerBound
        return try file.rows(range(index)).enumerated().map { offset, row in
            if let bad = row.sparse.first(where: { $0 < 0 || $0 >= tableSize }) {
                throw CTRDataError.malformed(
                    file: file.path, line: start + offset + 1,
                    reason: "id \(bad) outside a table of \(tableSize) rows; build the cache with the same --max-ind-range")
            }
            return CTRExample(label: row.label, dense: row.dense, sparse: row.sparse.map { [$0] }, timestamp: start + offset)
        }
    }
}
