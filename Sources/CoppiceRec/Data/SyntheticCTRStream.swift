import Foundation

/// The synthetic generator as a stream: chunk i is examples i·size ..< (i+1)·size, regenerated on
/// demand, so memory stays bounded however long it runs.
public struct SyntheticCTRStream: CTRStream {
    public let generator: SyntheticCTR
    public let chunkSize: Int
    public let chunkCount: Int?
    public var denseCount: Int { generator.denseCount }
    public var tableSizes: [Int] { generator.tableSizes }

    public init(_ generator: SyntheticCTR, chunkSize: Int, chunks: Int?) throws(CTRDataError) {
        guard chunkSize > 0 else { throw .invalidArgument("chunks need at least one example, got a chunk size of \(chunkSize)") }
        self.generator = generator
        self.chunkSize = chunkSize
        chunkCount = chunks
    }

    public func chunkSize(_ index: Int) -> Int { chunkSize }
    public func chunk(_ index: Int) throws -> [CTRExample] { try generator.examples(index * chunkSize..<(index + 1) * chunkSize) }
}
