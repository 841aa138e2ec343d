import CoppiceTensor
import Foundation

/// The click truth of the `synthetic-teacher` stream: a random, fixed DLRM wider than the students
/// trained on it (nonlinear bottom and top MLPs over the 13 dense features, dot interactions over its
/// own embeddings of the 26 Criteo-schema tables), whose logit is standardized over a calibration
/// block, then scaled and shifted, so that the spread of the truth and the base CTR are set, not
/// accidental. Unlike the planted logistic truth, which a tiny model fits, this truth rewards
/// capacity (docs/results/amgp/seeds-teacher: a student of 0.73× the hidden widths falls behind).
///
/// The defaults were tuned by hand (the issue 22 note has the runs): a logit spread of 4 makes the
/// labels informative enough that approximation error shows in NE (at 2 width made no difference);
/// embeddings with a spread of 0.025 let ids move the click odds mainly through their dots with the
/// dense vector — with order-one embeddings the id–id dots dominate and no student learned anything
/// from 600,000 examples (test AUC 0.50–0.58); an intercept of −3.5 puts the CTR near 20%.
public struct SyntheticTeacher: Sendable, Equatable {
    /// Hidden widths of the bottom MLP (the dense count is prepended, the embedding dimension appended).
    public var bottomHidden: [Int]
    /// Hidden widths of the top MLP (the output logit is appended).
    public var topHidden: [Int]
    public var embeddingDimension: Int
    /// Standard deviation of the logit across examples: larger is a sharper, more learnable truth.
    public var logitScale: Float
    /// Mean logit, about the log-odds of the base CTR before the spread widens it.
    public var intercept: Float
    /// Standard deviation of the teacher's embedding entries.
    public var embeddingDeviation: Float
    /// The teacher's own seed: fixed while the stream's seed varies the features and label draws.
    public var seed: UInt64 = 0

    /// The defaults: twice the widths of the reference DLRM's MLPs (13-512-256-64-16 / 512-256-1).
    public init(
        bottomHidden: [Int] = [1024, 512, 128], topHidden: [Int] = [1024, 512], embeddingDimension: Int = 16,
        logitScale: Float = 4, intercept: Float = -3.5, embeddingDeviation: Float = 0.025
    ) {
        (self.bottomHidden, self.topHidden, self.embeddingDimension) = (bottomHidden, topHidden, embeddingDimension)
        (self.logitScale, self.intercept, self.embeddingDeviation) = (logitScale, intercept, embeddingDeviation)
    }

    /// Examples whose truth is computed together: a stream's range is computed in whole blocks, so
    /// every example's label is the same whichever range it is asked for in.
    static let blockSize = 1024

    func configuration(denseCount: Int, tableSizes: [Int]) -> DLRMConfiguration {
        DLRMConfiguration(
            bottomMLP: [denseCount] + bottomHidden + [embeddingDimension], topMLP: topHidden + [1],
            embeddingDimension: embeddingDimension, tableSizes: tableSizes)
    }
}

/// The teacher of each truth version (drift builds a new one per version), built on first use from
/// (seed, version) and standardized on the calibration block; the two most recent are kept.
final class SyntheticTeacherModels: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `models` is read and written only under `lock`, and a model
    // is only run under it (a DLRM's forward pass is not reentrant).
    private let lock = NSLock()
    private var models: [(version: Int, model: DLRM, mean: Float, deviation: Float)] = []
    let teacher: SyntheticTeacher

    init(_ teacher: SyntheticTeacher) { self.teacher = teacher }

    /// Logits of `batch` under truth `version`; `calibration` is the batch whose logits set the
    /// standardization, `seed` the stream's.
    func logits(_ batch: DLRMBatch, version: Int, tableSizes: [Int], calibration: () -> DLRMBatch) throws -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        let entry: (version: Int, model: DLRM, mean: Float, deviation: Float)
        if let found = models.first(where: { $0.version == version }) {
            entry = found
        } else {
            var rng = RandomGenerator(seed: syntheticMix(teacher.seed, UInt64(version), 200))
            let model = try DLRM(teacher.configuration(denseCount: batch.dense.shape[1], tableSizes: tableSizes), using: &rng)
            for table in model.embeddings {
                table.weight.value = .normal(table.weight.shape, standardDeviation: teacher.embeddingDeviation, using: &rng)
            }
            let raw = try withoutGradient { try model(calibration()).scalars }
            let mean = raw.reduce(0, +) / Float(raw.count)
            let spread = (raw.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(raw.count)).squareRoot()
            entry = (version, model, mean, max(spread, 1e-6))
            models = Array((models + [entry]).suffix(2))
        }
        let raw = try withoutGradient { try entry.model(batch).scalars }
        return raw.map { teacher.intercept + teacher.logitScale * ($0 - entry.mean) / entry.deviation }
    }
}
