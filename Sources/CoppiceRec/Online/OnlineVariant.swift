import CoppiceRuns
import Foundation

/// One sparse serving model of an online run (papers.md §3.2): how its masks are chosen and when it
/// is regenerated from the dense model. Between regenerations it trains on every chunk with its mask.
public struct OnlineVariant: Codable, Sendable, Hashable, CustomStringConvertible {
    public var pruning: ServingPruning
    /// Chunks between regenerations (D2S's r); nil: never after the first (prune once, r = ∞).
    public var period: Int?
    /// Adaptive D2S: also regenerate after a chunk on which the serving model's NE exceeded the
    /// dense model's by more than this.
    public var adaptiveThreshold: Double?

    public init(pruning: ServingPruning, period: Int? = nil, adaptiveThreshold: Double? = nil) {
        self.pruning = pruning
        self.period = period
        self.adaptiveThreshold = adaptiveThreshold
    }

    /// "d2s-r2-learned", "prune-once-uniform", "adaptive-0.005-learned".
    public var description: String {
        let schedule =
            adaptiveThreshold.map { "adaptive-\($0)" + (period.map { "-r\($0)" } ?? "") }
            ?? period.map { "d2s-r\($0)" } ?? "prune-once"
        return "\(schedule)-\(pruning.rawValue)"
    }

    /// Parses a schedule: `once` (or `inf`), `r4` (or `4`), `adaptive:0.005`.
    public static func schedule(_ text: String, pruning: ServingPruning) -> OnlineVariant? {
        let lower = text.lowercased()
        if lower == "once" || lower == "inf" { return OnlineVariant(pruning: pruning) }
        if lower.hasPrefix("adaptive:"), let threshold = Double(lower.dropFirst(9)), threshold >= 0 {
            return OnlineVariant(pruning: pruning, adaptiveThreshold: threshold)
        }
        if let r = Int(lower.hasPrefix("r") ? String(lower.dropFirst()) : lower), r > 0 { return OnlineVariant(pruning: pruning, period: r) }
        return nil
    }

    /// Every pruning × schedule pair of two comma-separated lists (`--pruning learned,uniform`,
    /// `--schedules r1,once,adaptive:0.005`), pruning-major.
    public static func parse(schedules: String, pruning: String) throws(TrainingError) -> [OnlineVariant] {
        var variants: [OnlineVariant] = []
        for name in pruning.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let p = ServingPruning(rawValue: name) else {
                throw .invalidConfiguration(
                    "unknown pruning '\(name)': choose from \(ServingPruning.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            for text in schedules.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let v = schedule(text, pruning: p) else {
                    throw .invalidConfiguration("unknown schedule '\(text)': r<N>, once or adaptive:<delta>")
                }
                variants.append(v)
            }
        }
        return variants
    }
}
