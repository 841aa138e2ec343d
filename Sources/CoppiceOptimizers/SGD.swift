import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// Stochastic gradient descent with optional momentum (PyTorch's formulation: buf = μ·buf + g, first
/// step buf = g), Nesterov momentum and L2 weight decay. Row-sparse gradients (sparse embeddings)
/// update only the touched rows when momentum is 0.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var buffers: [ObjectIdentifier: StateBuffer] = [:]

    public init(
        parameters: [Parameter], learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
        weightDecay: Float = 0
    ) {
        checkArgument(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        self.parameters = parameters.filter(\.isTrainable)
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step() {
        let (lr, mu, wd, nesterov) = (learningRate, momentum, weightDecay, nesterov)
        for parameter in parameters {
            if parameter.sparseGrad != nil && mu == 0 && wd == 0 {
                withSparseUpdate(parameter, states: []) { w, rows, values, d in
                    // Coalesced rows are distinct, so the threads never write the same weights.
                    let count = rows.count
                    rows.withUnsafeBufferPointer { rows in
                        values.withUnsafeBufferPointer { values in
                            guard let rows = rows.baseAddress, let values = values.baseAddress else { return }
                            ThreadPool.shared.parallelRanges(count, grain: 256) { range in
                                for r in range {
                                    let weights = w + rows[r] * d, gradient = values + r * d
                                    for c in 0..<d { weights[c] -= lr * gradient[c] }
                                }
                            }
                        }
                    }
                }
                continue
            }
            if parameter.grad == nil, let sparse = parameter.sparseGrad {
                // Momentum or weight decay touch every row anyway: apply the gradient densely.
                let dense = sparse.densified()
                let buffer = momentumBuffer(parameter, mu)
                update(parameter, dense, buffer, lr, mu, wd, nesterov)
                continue
            }
            guard let grad = parameter.grad else { continue }
            update(parameter, grad, momentumBuffer(parameter, mu), lr, mu, wd, nesterov)
        }
    }

    public func stateTensors() -> [String: Tensor] { saveBuffers(parameters, buffers, prefix: "momentum") }

    public func loadState(_ state: [String: Tensor]) throws(OptimizerStateError) {
        try loadBuffers(state, parameters, &buffers, prefix: "momentum")
    }

    private func momentumBuffer(_ parameter: Parameter, _ mu: Float) -> StateBuffer? {
        guard mu != 0 else { return nil }
        if let existing = buffers[ObjectIdentifier(parameter)] { return existing }
        let created = StateBuffer(count: parameter.tensor.count)
        buffers[ObjectIdentifier(parameter)] = created
        return created
    }

    private func update(
        _ parameter: Parameter, _ grad: Tensor, _ buffer: StateBuffer?, _ lr: Float, _ mu: Float,
        _ wd: Float, _ nesterov: Bool
    ) {
        grad.withUnsafeBufferPointer { gb in
            parameter.update { wb in
                let w = wb.baseAddress!, g = gb.baseAddress!
                if let buffer {
                    let b = buffer.pointer
                    for i in 0..<wb.count {
                        let d = g[i] + wd * w[i]
                        b[i] = mu * b[i] + d
                        w[i] -= lr * (nesterov ? d + mu * b[i] : b[i])
                    }
                } else {
                    for i in 0..<wb.count { w[i] -= lr * (g[i] + wd * w[i]) }
                }
            }
        }
        applyMask(parameter, states: buffer.map { [$0] } ?? [])
    }
}
