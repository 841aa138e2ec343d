import CoppiceKernels
/// Reverse-mode automatic differentiation over a runtime tape.
///
/// Every op that sees an input on the tape records a `GradNode` holding its pullback, which captures
/// only what the backward pass needs. `backward()` walks the nodes in reverse topological order,
/// accumulating gradients; leaves (parameters) keep theirs, intermediate gradients and pullbacks are
/// released as soon as they are used, so a graph can be walked once.
final class GradNode {
    let inputs: [GradNode?]
    var pullback: ((Tensor) -> [Tensor?])?
    var grad: Tensor?
    /// Row-sparse gradient of an embedding table (leaves only; see `RowSparseGradient`).
    var sparseGrad: RowSparseGradient?
    let shape: [Int]
    let isLeaf: Bool

    init(shape: [Int]) {
        self.inputs = []
        self.pullback = nil
        self.shape = shape
        self.isLeaf = true
    }

    init(shape: [Int], inputs: [GradNode?], pullback: @escaping (Tensor) -> [Tensor?]) {
        self.inputs = inputs
        self.pullback = pullback
        self.shape = shape
        self.isLeaf = false
    }

    func accumulate(_ gradient: Tensor) {
        checkArgument(gradient.shape == shape, "gradient of shape \(gradient.shape) for a value of shape \(shape)")
        if let existing = grad {
            grad = existing.adding(gradient)
        } else {
            grad = gradient.isContiguous ? gradient.withNode(nil) : gradient.contiguousCopy()
        }
    }
}

/// Whether operations record onto the tape; scoped per task, never a global.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording: no nodes, no pullbacks, no tape overhead (inference, optimizer steps).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Whether this value is on the tape (a leaf that requires a gradient, or computed from one).
    public var requiresGrad: Bool { node != nil }

    /// The accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor? { node?.grad }

    /// This value as a new leaf of the tape whose gradient `backward()` will accumulate.
    public func requiringGrad() -> Tensor {
        withNode(GradNode(shape: shape))
    }

    /// The same values, off the tape.
    public func detached() -> Tensor { withNode(nil) }

    /// Replaces the accumulated gradient of a leaf (data-parallel training puts the ranks' reduced
    /// gradient here); nothing for a value off the tape.
    public func setGrad(_ gradient: Tensor) {
        checkArgument(gradient.shape == shape, "gradient of shape \(gradient.shape) for a value of shape \(shape)")
        node?.grad = gradient.isContiguous ? gradient.withNode(nil) : gradient.contiguousCopy()
    }

    /// Clears the accumulated gradient of a leaf.
    public func zeroGrad() {
        node?.grad = nil
        node?.sparseGrad = nil
    }

    /// Records `output` as computed from `inputs` with the given pullback (the gradient of the output
    /// mapped to one gradient per input, `nil` where an input needs none). Use it to define new
    /// differentiable ops; when recording is off or no input is on the tape, `output` is returned as is.
    public static func differentiable(
        _ output: Tensor, inputs: [Tensor],
        pullback: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return output }
        return output.withNode(GradNode(shape: output.shape, inputs: inputs.map(\.node), pullback: pullback))
    }

    /// Back-propagates from this value; without `seed` it must hold a single element (a loss).
    public func backward(seed: Tensor? = nil) {
        guard let root = node else { return }
        let start = seed ?? Tensor(repeating: 1, shape: shape)
        checkArgument(seed != nil || count == 1, "backward() without a seed needs a one-element tensor, got shape \(shape)")
        checkArgument(start.shape == shape, "seed of shape \(start.shape) for a value of shape \(shape)")
        let order = Tensor.topologicalOrder(from: root)
        root.accumulate(start)
        withoutGradient {
            for node in order.reversed() {
                guard let pullback = node.pullback, let gradient = node.grad else { continue }
                node.pullback = nil
                if !node.isLeaf { node.grad = nil }
                let inputGrads = pullback(gradient)
                for (input, inputGrad) in zip(node.inputs, inputGrads) {
                    if let input, let inputGrad { input.accumulate(inputGrad) }
                }
            }
        }
    }

    /// Nodes reachable from `root`, each after all of its inputs (iterative, so deep graphs do not
    /// overflow the stack).
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, resume) = stack.popLast() {
            var next = resume
            var pushed = false
            while next < node.inputs.count {
                let input = node.inputs[next]
                next += 1
                if let input, input.pullback != nil || input.isLeaf, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((node, next))
                    stack.append((input, 0))
                    pushed = true
                    break
                }
            }
            if !pushed { order.append(node) }
        }
        return order
    }
}

extension Tensor {
    /// `newValue`'s values under this tensor's place on the tape (same leaf, same accumulated
    /// gradient): how a parameter's value is replaced without losing its identity.
    public func replacingValues(with newValue: Tensor) -> Tensor {
        checkArgument(newValue.shape == shape, "cannot replace values of shape \(shape) with shape \(newValue.shape)")
        return newValue.withNode(node)
    }
}
