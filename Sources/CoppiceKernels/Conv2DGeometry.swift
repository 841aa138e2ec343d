/// The geometry of a 2-D convolution or pooling window over NCHW data.
///
/// Legend: N batch, C input channels, K output channels, H×W input, R×S window, P×Q output.
public struct Conv2DGeometry: Sendable, Hashable {
    public var batch: Int
    public var inChannels: Int
    public var outChannels: Int
    public var height: Int
    public var width: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideH: Int
    public var strideW: Int
    public var padH: Int
    public var padW: Int
    public var dilationH: Int
    public var dilationW: Int

    public init(
        batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
        kernelHeight: Int, kernelWidth: Int, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        dilation: (Int, Int) = (1, 1)
    ) {
        self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels
        self.height = height; self.width = width
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideH = stride.0; self.strideW = stride.1
        self.padH = padding.0; self.padW = padding.1
        self.dilationH = dilation.0; self.dilationW = dilation.1
    }

    public var outHeight: Int { (height + 2 * padH - dilationH * (kernelHeight - 1) - 1) / strideH + 1 }
    public var outWidth: Int { (width + 2 * padW - dilationW * (kernelWidth - 1) - 1) / strideW + 1 }
    /// Rows of the im2col matrix: C·R·S.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    public var outPlane: Int { outHeight * outWidth }
    public var inPlane: Int { height * width }
    /// Multiply-adds of the forward pass.
    public var multiplyAdds: Int { batch * outChannels * outPlane * patchSize }

    /// Whether the window fits the padded input and every size is positive.
    public var isValid: Bool {
        batch > 0 && inChannels > 0 && outChannels > 0 && height > 0 && width > 0 && kernelHeight > 0 && kernelWidth > 0 && strideH > 0 && strideW > 0
            && padH >= 0 && padW >= 0 && dilationH > 0 && dilationW > 0 && outHeight > 0 && outWidth > 0
    }

    /// A 1×1, stride-1, unpadded convolution is a plain product: im2col would copy the input unchanged.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0
    }
}
