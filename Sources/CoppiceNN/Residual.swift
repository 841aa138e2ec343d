import CoppiceKernels
import CoppiceTensor

/// y = body(x) + shortcut(x) (the identity when there is no shortcut), as in a ResNet basic block;
/// the sum goes through `activation` when one is given.
public final class Residual: Layer {
    public let body: Sequential
    public let shortcut: Sequential?
    public let activation: Layer?

    public init(body: Sequential, shortcut: Sequential? = nil, activation: Layer? = ReLU()) {
        self.body = body
        self.shortcut = shortcut
        self.activation = activation
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.module("body", body)
        if let shortcut { v.module("shortcut", shortcut) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let sum = body(x) + (shortcut?(x) ?? x)
        return activation?(sum) ?? sum
    }
}
