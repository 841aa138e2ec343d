import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// The inference twin of a pruned `Linear`: the weight held as CSR, so the product costs time in
/// proportion to the nonzeros. It lists the same parameter names (the weight densified on demand), so
/// state dicts and reports see the same model. Gradients flow to the input, not to the fixed weight.
public final class SparseLinear: Layer {
    public let matrix: CSRMatrix
    public let bias: Parameter?
    private let denseWeight: Parameter

    public init(_ linear: Linear) {
        let weight = linear.weight.value
        matrix = weight.withUnsafeBufferPointer { CSRMatrix(dense: $0.baseAddress!, rows: weight.shape[0], columns: weight.shape[1]) }
        bias = linear.bias.map { Parameter($0.value, isTrainable: false) }
        denseWeight = Parameter(weight, isTrainable: false)
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.buffer("weight", denseWeight)
        if let bias { v.buffer("bias", bias) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        checkArgument(
            x.rank == 2 && x.shape[1] == matrix.columns,
            "SparseLinear expects [batch, \(matrix.columns)], got \(x.shape)")
        let batch = x.shape[0]
        let input = x.detached().contiguous()
        let y = Tensor(shape: [batch, matrix.rows]) { out in
            input.withUnsafeBufferPointer { xs in
                if let bias {
                    bias.value.withUnsafeBufferPointer {
                        SparseLinearKernel.forward(matrix, xs.baseAddress!, batch: batch, bias: $0.baseAddress!, out.baseAddress!)
                    }
                } else {
                    SparseLinearKernel.forward(matrix, xs.baseAddress!, batch: batch, bias: nil, out.baseAddress!)
                }
            }
        }
        let weight = denseWeight.value
        return Tensor.differentiable(y, inputs: [x]) { g in [matmul(g, weight)] }
    }
}

/// The inference twin of a pruned `Conv2D`: im2col per image, then a CSR weight [K, C·R·S] times the
/// patch matrix [C·R·S, P·Q] with the sparse kernel, which writes the NCHW output directly.
public final class SparseConv2D: Layer {
    public let matrix: CSRMatrix
    public let bias: Parameter?
    public let weightShape: [Int]
    public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    private let denseWeight: Parameter

    public init(_ conv: Conv2D) {
        let weight = conv.weight.value
        weightShape = weight.shape
        matrix = weight.withUnsafeBufferPointer {
            CSRMatrix(dense: $0.baseAddress!, rows: weight.shape[0], columns: weight.count / weight.shape[0])
        }
        bias = conv.bias.map { Parameter($0.value, isTrainable: false) }
        denseWeight = Parameter(weight, isTrainable: false)
        stride = conv.stride; padding = conv.padding; dilation = conv.dilation
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.buffer("weight", denseWeight)
        if let bias { v.buffer("bias", bias) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let g = Conv2DGeometry(input: x.shape, weight: weightShape, stride: stride, padding: padding, dilation: dilation)
        let input = x.detached().contiguous()
        let cols = ScratchBuffer(count: g.patchSize * g.outPlane)
        var y = Tensor(shape: [g.batch, g.outChannels, g.outHeight, g.outWidth]) { ys in
            input.withUnsafeBufferPointer { xs in
                for n in 0..<g.batch {
                    Im2Col.unfold(xs.baseAddress! + n * g.inChannels * g.inPlane, g, cols.pointer)
                    SparseProduct.spmm(matrix, cols.pointer, ys.baseAddress! + n * g.outChannels * g.outPlane, batch: g.outPlane)
                }
            }
        }
        if let bias { y = withoutGradient { y + bias.value.reshaped([1, g.outChannels, 1, 1]) } }
        let weight = denseWeight.value
        return Tensor.differentiable(y, inputs: [x]) { grad in
            // The input gradient through the dense weight (zeros included): exact, and rarely needed.
            var gx = [Float](repeating: 0, count: g.batch * g.inChannels * g.inPlane)
            grad.contiguous().withUnsafeBufferPointer { gy in
                weight.withUnsafeBufferPointer { w in Conv2DIm2Col.backwardData(gy.baseAddress!, w.baseAddress!, &gx, g) }
            }
            return [Tensor(gx).reshaped(x.shape)]
        }
    }
}
