import CoppiceNN
import CoppiceTensor

/// A trained (pruned) model in the form inference runs: folded (`InferenceFolding`) and with every
/// layer on the path that measured fastest for the batch it was built at (`SparseExecution.optimize`).
/// The model `coppice report` times is this one, and so is the one that classifies images.
public final class SparseInferenceModel {
    /// The folded model with the chosen paths swapped in.
    public let model: Sequential
    /// Per-layer measurements and the whole model's dense and chosen times.
    public let report: ModelReport

    init(model: Sequential, report: ModelReport) {
        self.model = model
        self.report = report
    }

    /// Measures `trained` on `input` (its real input shape and batch) and keeps the fastest paths.
    public convenience init(_ trained: Sequential, input: Tensor, budget: Double = 0.2) {
        let built = SparseExecution.optimize(trained, input: input, budget: budget)
        self.init(model: built.model, report: built.report)
    }

    /// The model's outputs (logits) for a batch; no gradient is recorded.
    public func callAsFunction(_ x: Tensor) -> Tensor { withoutGradient { model(x) } }
}
