import CoppiceNN
import CoppiceTensor

/// Adagrad (Duchi et al. 2011): s += g², w −= lr · g / (√s + ε). Row-sparse gradients from sparse
/// embeddings read and write only the touched rows of the weights and of s (as PyTorch's sparse
/// Adagrad and DLRM's reference), so a step costs O(batch · d) whatever the table's size.
public final class Adagrad: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let epsilon: Float
    public let initialAccumulator: Float
    private var sums: [ObjectIdentifier: StateBuffer] = [:]

    public init(parameters: [Parameter], learningRate: Float = 0.01, epsilon: Float = 1e-10, initialAccumulator: Float = 0) {
        self.parameters = parameters.filter(\.isTrainable)
        self.learningRate = learningRate
        self.epsilon = epsilon
        self.initialAccumulator = initialAccumulator
    }

    public func step() {
        let (lr, eps) = (learningRate, epsilon)
        for parameter in parameters {
            let s = state(parameter)
            if parameter.grad == nil, parameter.sparseGrad != nil {
                withSparseUpdate(parameter, states: [s]) { w, rows, values, d in
                    for (r, row) in rows.enumerated() {
                        for c in 0..<d {
                            let i = row * d + c, g = values[r * d + c]
                            s.pointer[i] += g * g
                            w[i] -= lr * g / (s.pointer[i].squareRoot() + eps)
                        }
                    }
                }
                continue
            }
            withDenseUpdate(parameter, states: [s]) { w, g, n in
                for i in 0..<n {
                    s.pointer[i] += g[i] * g[i]
                    w[i] -= lr * g[i] / (s.pointer[i].squareRoot() + eps)
                }
            }
        }
    }

    public func stateTensors() -> [String: Tensor] { saveBuffers(parameters, sums, prefix: "sum") }

    public func loadState(_ state: [String: Tensor]) throws(OptimizerStateError) {
        try loadBuffers(state, parameters, &sums, prefix: "sum")
    }

    /// The accumulated squared gradients of `parameter` (for tests and checkpoints).
    public func accumulator(of parameter: Parameter) -> [Float]? { sums[ObjectIdentifier(parameter)]?.values }

    private func state(_ parameter: Parameter) -> StateBuffer {
        if let existing = sums[ObjectIdentifier(parameter)] { return existing }
        let created = StateBuffer(count: parameter.tensor.count)
        created.pointer.update(repeating: initialAccumulator, count: created.count)
        sums[ObjectIdentifier(parameter)] = created
        return created
    }
}
