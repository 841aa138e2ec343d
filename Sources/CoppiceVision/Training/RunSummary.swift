import Foundation

/// The final numbers of a run, as written to `summary.json`.
public struct RunSummary: Codable, Sendable {
    public var configuration: TrainingConfiguration
    public var history: [EpochRecord]
    public var parameters: Int

    public var final: EpochRecord? { history.last }
    public var meanEpochSeconds: Double { history.isEmpty ? 0 : history.map(\.seconds).reduce(0, +) / Double(history.count) }
}
