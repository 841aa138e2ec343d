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
