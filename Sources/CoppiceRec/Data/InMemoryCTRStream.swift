import Foundation

/// An in-memory dataset (MovieLens-100K) as a stream of chunks.
public struct InMemoryCTRStream: CTRStream {
    public let dataset: CTRDataset
    public let boundaries: [Range<Int>]
    public var denseCount: Int { dataset.denseNames.count }
    public var tableSizes: [Int] { dataset.tableSizes }
    public var chunkCount: Int? { boundaries.count }

    public init(_ dataset: CTRDataset, chunking: CTRChunking) throws(CTRDataError) {
        self.dataset = dataset
        let examples = dataset.examples
        switch chunking {
        case .examples(let n):
            guard n > 0 else { throw .invalidArgument("chunks need at least one example, got \(n)") }
            boundaries = stride(from: 0, to: examples.count, by: n).map { $0..<min($0 + n, examples.count) }
        case .days(let d):
            guard d > 0 else { throw .invalidArgument("chunks need at least one day, got \(d)") }
            let first = (examples.first?.timestamp ?? 0) / 86_400
            var ranges: [Range<Int>] = [], start = 0
            for i in examples.indices.dropFirst()
            where (examples[i].timestamp / 86_400 - first) / d != (examples[i - 1].timestamp / 86_400 - first) / d {
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
