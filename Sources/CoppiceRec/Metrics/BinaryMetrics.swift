import CoppiceRuns
import Foundation

/// Metrics of a binary classifier's probabilities (click-through-rate prediction): exact ROC-AUC,
/// log loss, normalized entropy, calibration and accuracy, over everything seen (lifetime) and over
/// the last `window` examples. Checked against scikit-learn on a committed fixture
/// (Tests/CoppiceRecTests/Fixtures/make_binary_metrics_fixture.py).
public struct BinaryMetrics: Sendable, Equatable {
    /// Predictions are clamped to [ε, 1 − ε] before the logarithm, so a confident mistake costs
    /// −log ε ≈ 16.1 nats instead of infinity.
    public static let epsilon = 1e-7

    public struct Summary: Codable, Sendable, Equatable {
        public var count: Int
        /// Area under the ROC curve with ties counted half (the Mann–Whitney U statistic); nil when
        /// only one class is present.
        public var auc: Double?
        public var logLoss: Double
        /// Log loss divided by the entropy of the training CTR (He et al. 2014): below 1 beats always
        /// predicting the training CTR. nil without a training CTR strictly between 0 and 1.
        public var normalizedEntropy: Double?
        /// Mean prediction / observed CTR; nil without positives.
        public var calibration: Double?
        public var accuracy: Double
        public var ctr: Double

        enum CodingKeys: String, CodingKey {
            case count, auc, accuracy, ctr, calibration
            case logLoss = "log_loss", normalizedEntropy = "ne"
        }
    }

    /// The summary of `predictions` (probabilities) against `labels` (0 or 1).
    public static func summary(predictions: [Float], labels: [Float], trainingCTR: Double?) throws(TrainingError) -> Summary {
        try validate(predictions: predictions, labels: labels)
        let n = predictions.count
        var loss = 0.0, correct = 0, positives = 0, predictedSum = 0.0
        for (p, y) in zip(predictions, labels) {
            let q = min(max(Double(p), epsilon), 1 - epsilon)
            loss -= y == 1 ? log(q) : log(1 - q)
            if (p >= 0.5) == (y == 1) { correct += 1 }
            if y == 1 { positives += 1 }
            predictedSum += Double(p)
        }
        let count = Double(max(n, 1))
        let logLoss = loss / count
        let ne = normalizedEntropy(logLoss: logLoss, trainingCTR: trainingCTR)
        return Summary(
            count: n, auc: auc(predictions: predictions, labels: labels), logLoss: logLoss, normalizedEntropy: ne,
            calibration: positives > 0 ? predictedSum / Double(positives) : nil,
            accuracy: Double(correct) / count, ctr: Double(positives) / count)
    }

    /// One label (0 or 1) per prediction (a probability), or an error naming the first that is not.
    static func validate(predictions: [Float], labels: [Float]) throws(TrainingError) {
        guard predictions.count == labels.count else {
            throw .data("metrics need one label per prediction, got \(predictions.count) predictions and \(labels.count) labels")
        }
        if let bad = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) { throw .data("label \(bad) is \(labels[bad]), expected 0 or 1") }
        if let bad = predictions.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw .data("prediction \(bad) is \(predictions[bad]), expected a probability in [0, 1]")
        }
    }

    /// Log loss over the entropy of the training CTR; nil unless the CTR is strictly between 0 and 1.
    public static func normalizedEntropy(logLoss: Double, trainingCTR: Double?) -> Double? {
        guard let c = trainingCTR, c > 0 && c < 1 else { return nil }
        return logLoss / -(c * log(c) + (1 - c) * log(1 - c))
    }

    /// Exact ROC-AUC: sort by score, give tied scores their average rank, and
    /// AUC = (Σ ranks of positives − P(P+1)/2) / (P·N).
    public static func auc(predictions: [Float], labels: [Float]) -> Double? {
        let order = predictions.indices.sorted { predictions[$0] < predictions[$1] }
        let positives = labels.filter { $0 == 1 }.count, negatives = labels.count - positives
        guard positives > 0 && negatives > 0 else { return nil }
        var rankSum = 0.0, start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && predictions[order[end + 1]] == predictions[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1
            for i in start...end where labels[order[i]] == 1 { rankSum += averageRank }
            start = end + 1
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }
}
