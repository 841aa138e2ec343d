import Foundation

/// A chronological stream of CTR examples cut into chunks (days, weeks, or a fixed number of
/// examples), each read on demand, so a consumer holds one chunk at a time. `chunkCount` is nil for a
/// stream without end (the synthetic generator).
public protocol CTRStream: Sendable {
    var denseCount: Int { get }
    var tableSizes: [Int] { get }
    var chunkCount: Int? { get }
    /// Examples in chunk `index`, without reading it.
    func chunkSize(_ index: Int) -> Int
    func chunk(_ index: Int) throws -> [CTRExample]
}

/// How a time-ordered dataset is cut into chunks.
public enum CTRChunking: Sendable, Equatable, CustomStringConvertible {
    /// Consecutive runs of this many examples (the last may be shorter).
    case examples(Int)
    /// Periods of this many days of the examples' timestamps, counted from the first example's day
    /// (UTC); empty periods are skipped.
    case days(Int)

    public var description: String {
        switch self {
        case .examples(let n): "\(n) examples"
        case .days(let d): d == 1 ? "1 day" : "\(d) days"
        }
    }
}

/// An in-memory dataset (MovieLens-100K) as a stream of chunks.
public struct InMemoryCTRStream: CTRStream {
    public let dataset: CTRDataset
    public let boundaries: [Range<Int>]
    public var denseCount: Int { dataset.denseNames.count }
    public var tableSizes: [Int] { dataset.tableSizes }
    public var chunkCount: Int? { boundaries.count }

    public init(_ dataset: CTRDataset, chunking: CTRChunking) {
        self.dataset = dataset
        let examples = dataset.examples
        switch chunking {
        case .examples(let n):
            precondition(n > 0, "chunks need at least one example")
            boundaries = stride(from: 0, to: examples.count, by: n).map { $0..<min($0 + n, examples.count) }
        case .days(let d):
            precondition(d > 0, "chunks need at least one day")
            let first = (examples.first?.timestamp ?? 0) / 86_400
            var ranges: [Range<Int>] = [], start = 0
            for i in examples.indices.dropFirst() where (examples[i].timestamp / 86_400 - first) / d != (examples[i - 1].timestamp / 86_400 - first) / d {
                ranges.append(start..<i)
                start = i
            }
            if start < examples.count { ranges.append(start..<examples.count) }
            boundaries = ranges
        }
    }

    public func chunkSize(_ index: Int) -> Int { boundaries[index].count }
    public func chunk(_ index: Int) throws -> [CTRExample] { Array(dataset.examples[boundaries[index]]) }
}

/// The synthetic generator as a stream: chunk i is examples i·size ..< (i+1)·size, regenerated on
/// demand, so memory stays bounded however long it runs.
public struct SyntheticCTRStream: CTRStream {
    public let generator: SyntheticCTR
    public let chunkSize: Int
    public let chunkCount: Int?
    public var denseCount: Int { generator.denseCount }
    public var tableSizes: [Int] { generator.tableSizes }

    public init(_ generator: SyntheticCTR, chunkSize: Int, chunks: Int?) {
        precondition(chunkSize > 0, "chunks need at least one example")
        self.generator = generator
        self.chunkSize = chunkSize
        chunkCount = chunks
    }

    public func chunkSize(_ index: Int) -> Int { chunkSize }
    public func chunk(_ index: Int) throws -> [CTRExample] { generator.examples(index * chunkSize..<(index + 1) * chunkSize) }
}

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
    public init(file: CriteoCache.File, tableSize: Int, chunksPerDay: Int = 1) {
        precondition(chunksPerDay > 0 && tableSize > 0, "chunks per day and table size must be positive")
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
                throw CTRDataError.malformed(file: file.path, line: start + offset + 1, reason: "id \(bad) outside a table of \(tableSize) rows; build the cache with the same --max-ind-range")
            }
            return CTRExample(label: row.label, dense: row.dense, sparse: row.sparse.map { [$0] }, timestamp: start + offset)
        }
    }
}
