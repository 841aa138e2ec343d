import CoppiceKernels
import CoppiceTensor

/// Max pooling over [N, C, H, W].
public final class MaxPool2D: Layer {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { maxPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Average pooling over [N, C, H, W] (padding counts as zeros).
public final class AvgPool2D: Layer {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { avgPool2d(x, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Mean over the spatial axes: [N, C, H, W] → [N, C].
public final class GlobalAvgPool2D: Layer {
    public init() {}
    public func visit(_ v: inout ParameterVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { globalAveragePool2d(x) }
}
