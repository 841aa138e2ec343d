/// `value` as bfloat16 bits: the top 16 bits of the Float32, rounded to nearest even; a NaN stays a
/// (quiet) NaN.
@inlinable
public func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}
