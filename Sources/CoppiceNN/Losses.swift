import CoppiceTensor

/// Loss functions, each returning the mean over the batch as a rank-0 tensor.
public enum Loss {
    /// Cross-entropy of `logits` [N, C] against class `labels`, with optional label smoothing ε:
    /// the target puts 1 − ε on the label and ε / C on every class (as PyTorch).
    public static func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Float = 0) throws(TensorError) -> Tensor {
        guard logits.rank == 2, logits.shape[0] == labels.count else {
            throw .shapeMismatch("cross-entropy needs logits [N, C] and N labels, got \(logits.shape) and \(labels.count) labels")
        }
        let classes = logits.shape[1]
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw .indexOutOfRange("label \(labels[bad]) at position \(bad) for \(classes) classes")
        }
        var target = [Float](repeating: labelSmoothing / Float(classes), count: labels.count * classes)
        for (row, label) in labels.enumerated() { target[row * classes + label] += 1 - labelSmoothing }
        let targets = try Tensor(shape: logits.shape, values: target)
        return -(logits.logSoftmax() * targets).sum() / Float(labels.count)
    }

    /// Binary cross-entropy on logits, computed stably: max(x, 0) − x·y + log(1 + e^(−|x|)).
    public static func binaryCrossEntropyWithLogits(_ logits: Tensor, targets: Tensor) throws(TensorError) -> Tensor {
        guard logits.shape == targets.shape else {
            throw .shapeMismatch("BCE-with-logits needs equal shapes, got logits \(logits.shape) and targets \(targets.shape)")
        }
        let perElement = logits.relu() - logits * targets + (1 + (-logits.abs()).exp()).log()
        return perElement.mean()
    }

    /// Mean squared error.
    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) throws(TensorError) -> Tensor {
        guard prediction.shape == target.shape else {
            throw .shapeMismatch("MSE needs equal shapes, got \(prediction.shape) and \(target.shape)")
        }
        return (prediction - target).squared().mean()
    }
}
