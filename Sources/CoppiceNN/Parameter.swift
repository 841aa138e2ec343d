import CoppiceKernels
import CoppiceTensor

/// A trainable (or buffer) value of a module: a leaf of the tape that accumulates its gradient, with
/// an optional mask of 0/1 entries that optimizers keep pruned weights at zero with.
public final class Parameter {
    /// The value as a leaf of the tape; use it in forward passes.
    public private(set) var tensor: Tensor
    /// 1 where the weight is kept, 0 where it is pruned; nil for no mask.
    public var mask: Tensor? {
        didSet {
            if let mask { checkArgument(mask.shape == tensor.shape, "mask of shape \(mask.shape) for parameter of shape \(tensor.shape)") }
        }
    }
    /// Whether optimizers update it (false for buffers such as running statistics).
    public let isTrainable: Bool

    public init(_ value: Tensor, isTrainable: Bool = true) {
        self.tensor = isTrainable ? value.detached().requiringGrad() : value.detached()
        self.isTrainable = isTrainable
    }

    /// The current values, off the tape.
    public var value: Tensor {
        get { tensor.detached() }
        set { tensor = tensor.replacingValues(with: newValue.detached()) }
    }

    public var shape: [Int] { tensor.shape }

    /// The gradient accumulated by `backward()` (nil before the first backward pass or after `zeroGrad`).
    public var grad: Tensor? { tensor.grad }

    /// The row-sparse gradient left by sparse embedding lookups.
    public var sparseGrad: RowSparseGradient? { tensor.sparseGrad }

    public func zeroGrad() { tensor.zeroGrad() }

    /// Replaces the gradient (the ranks' reduced one in data-parallel training).
    public func setGrad(_ gradient: Tensor) { tensor.setGrad(gradient) }

    /// Writes the values in place (optimizer steps); the tape position and gradient are kept.
    public func update<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try tensor.withUnsafeMutableBufferPointer(body)
    }

    /// Multiplies the value by the mask, if there is one.
    public func applyMask() {
        guard let mask else { return }
        let m = mask.scalars
        update { values in for i in values.indices where m[i] == 0 { values[i] = 0 } }
    }
}
