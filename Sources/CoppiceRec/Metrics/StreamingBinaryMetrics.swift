import CoppiceRuns
import Foundation

/// Lifetime and windowed metrics of a stream of predictions in bounded memory: `add` examples as they
/// are scored, read `lifetime()` and `windowed()` at any time. The window keeps the last `window`
/// examples (0: none) and its metrics are exact. The lifetime keeps sums (log loss, NE, calibration, accuracy
/// and CTR are exact) and a histogram of predictions over `aucBins` equal bins of the logit in
/// [−16, 16] for the AUC: examples in one bin count as tied, so the lifetime AUC is off by at most
/// half the fraction of positive–negative pairs that share a bin. Codable, so a checkpoint carries it.
public struct StreamingBinaryMetrics: Codable, Sendable, Equatable {
    public static let aucBins = 8192
    public let window: Int
    public var trainingCTR: Double?
    private var count = 0, positives = 0, correct = 0
    private var lossSum = 0.0, predictedSum = 0.0
    private var positiveBins: [Int], negativeBins: [Int]
    private var recentPredictions: [Float] = [], recentLabels: [Float] = []
    private var next = 0

    public init(window: Int, trainingCTR: Double? = nil) throws(TrainingError) {
        guard window >= 0 else { throw .invalidConfiguration("the metrics window cannot be negative, got \(window)") }
        self.init(validWindow: window, trainingCTR: trainingCTR)
    }

    /// Lifetime metrics only (no window).
    public static func lifetimeOnly(trainingCTR: Double? = nil) -> StreamingBinaryMetrics {
        StreamingBinaryMetrics(validWindow: 0, trainingCTR: trainingCTR)
    }

    private init(validWindow window: Int, trainingCTR: Double?) {
        self.window = window
        self.trainingCTR = trainingCTR
        positiveBins = Array(repeating: 0, count: Self.aucBins)
        negativeBins = Array(repeating: 0, count: Self.aucBins)
    }

    public var examples: Int { count }

    public mutating func add(predictions p: [Float], labels y: [Float]) throws(TrainingError) {
        try BinaryMetrics.validate(predictions: p, labels: y)
        for (prediction, label) in zip(p, y) {
            let q = min(max(Double(prediction), BinaryMetrics.epsilon), 1 - BinaryMetrics.epsilon)
            lossSum -= label == 1 ? log(q) : log(1 - q)
            predictedSum += Double(prediction)
            if (prediction >= 0.5) == (label == 1) { correct += 1 }
            let bin = min(Self.aucBins - 1, max(0, Int((log(q / (1 - q)) + 16) / 32 * Double(Self.aucBins))))
            if label == 1 { positives += 1; positiveBins[bin] += 1 } else { negativeBins[bin] += 1 }
            count += 1
            if window == 0 { continue }
            if recentPredictions.count < window {
                recentPredictions.append(prediction)
                recentLabels.append(label)
            } else {
                recentPredictions[next] = prediction
                recentLabels[next] = label
            }
            next = (next + 1) % window
        }
    }

    public func lifetime() -> BinaryMetrics.Summary {
        let n = Double(max(count, 1))
        let logLoss = lossSum / n
        return BinaryMetrics.Summary(
            count: count, auc: binnedAUC(), logLoss: logLoss,
            normalizedEntropy: BinaryMetrics.normalizedEntropy(logLoss: logLoss, trainingCTR: trainingCTR),
            calibration: positives > 0 ? predictedSum / Double(positives) : nil,
            accuracy: Double(correct) / n, ctr: Double(positives) / n)
    }

    public func windowed() throws(TrainingError) -> BinaryMetrics.Summary {
        try BinaryMetrics.summary(predictions: recentPredictions, labels: recentLabels, trainingCTR: trainingCTR)
    }

    /// Mann–Whitney over the histogram: a positive beats the negatives of lower bins and ties half of
    /// its own bin.
    private func binnedAUC() -> Double? {
        let negatives = count - positives
        guard positives > 0 && negatives > 0 else { return nil }
        var below = 0.0, wins = 0.0
        for bin in 0..<Self.aucBins {
            wins += Double(positiveBins[bin]) * (below + Double(negativeBins[bin]) / 2)
            below += Double(negativeBins[bin])
        }
        return wins / (Double(positives) * Double(negatives))
    }
}
