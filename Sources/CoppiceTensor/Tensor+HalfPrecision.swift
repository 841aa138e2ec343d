// Float16 and BFloat16 storage conversion (the value type stays Float32).

import CoppiceKernels

extension Tensor {
    /// The values rounded to IEEE half precision, as raw bits (round to nearest even).
    public func float16Bits() -> [UInt16] {
        scalars.map { Float16($0).bitPattern }
    }

    /// The values rounded to bfloat16 (the top 16 bits of a Float32, round to nearest even; NaN kept quiet).
    public func bfloat16Bits() -> [UInt16] {
        scalars.map(Tensor.bfloat16)
    }

    public init(shape: [Int], float16Bits: [UInt16]) throws(TensorError) {
        try self.init(shape: shape, values: float16Bits.map { Float(Float16(bitPattern: $0)) })
    }

    public init(shape: [Int], bfloat16Bits: [UInt16]) throws(TensorError) {
        try self.init(shape: shape, values: bfloat16Bits.map { Float(bitPattern: UInt32($0) << 16) })
    }

    static func bfloat16(_ value: Float) -> UInt16 { CoppiceKernels.bfloat16Bits(value) }
}
