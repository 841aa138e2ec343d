/// Dequantization of llama.cpp's block formats that Coppice reads but does not run as stored, value for
/// value as `ggml-quants.c`'s `dequantize_row_*` (F16 scales widened, products in Float):
/// - Q5_0 (22 / 32): d, 4 bytes of fifth bits, 16 bytes of nibbles; x = d·(q − 16);
/// - Q5_1 (24 / 32): d, m, fifth bits, nibbles; x = d·q + m;
/// - Q4_K (144 / 256): d, dmin, 12 bytes of eight 6-bit scales and mins, 128 bytes of nibbles;
///   x = d·sc·q − dmin·m per 32 values;
/// - Q5_K (176 / 256): as Q4_K plus 32 bytes of fifth bits;
/// - Q6_K (210 / 256): 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, d;
///   x = d·sc·(q − 32) per 16 values.
/// In each 32-value group of the 32-blocks, value j sits in the low nibble of byte j and value j + 16
/// in its high nibble.
enum GGMLBlocks {
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }

    /// Dequantizes `count` values (whole blocks of `type`) from `bytes` into `out`.
    static func dequantize(_ type: GGUFTensorType, _ bytes: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        let blocks = count / type.blockElements
        for b in 0..<blocks {
            let x = bytes + b * type.blockBytes, y = out + b * type.blockElements
            switch type {
            case .q5_0, .q5_1: q5(x, y, withMinimum: type == .q5_1)
            case .q4_K, .q5_K: qK(x, y, fifthBits: type == .q5_K)
            case .q6_K: q6_K(x, y)
            case .f32, .f16, .bf16, .q4_0, .q8_0, .q4_1: preconditionFailure("\(type) is read by GGUFFile directly")
            }
        }
    }

    static func q5(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, withMinimum: Bool) {
        let d = half(x, 0), m = withMinimum ? half(x, 2) : 0
        let start = withMinimum ? 4 : 2
        let qh = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: start, as: UInt32.self))
        let qs = x.assumingMemoryBound(to: UInt8.self) + start + 4
        for j in 0..<16 {
            let high0 = UInt8(truncatingIfNeeded: (qh >> j) << 4) & 0x10, high1 = UInt8(truncatingIfNeeded: qh >> (j + 12)) & 0x10
            let q0 = Int(qs[j] & 0x0F | high0), q1 = Int(qs[j] >> 4 | high1)
            if withMinimum {
                y[j] = Float(q0) * d + m
                y[j + 16] = Float(q1) * d + m
            } else {
                y[j] = Float(q0 - 16) * d
                y[j + 16] = Float(q1 - 16) * d
            }
        }
    }

    /// The 6-bit scale and minimum of sub-block `j` (of 8) of a Q4_K/Q5_K block (`get_scale_min_k4`).
    static func scaleMin(_ j: Int, _ q: UnsafePointer<UInt8>) -> (Float, Float) {
        if j < 4 { return (Float(q[j] & 63), Float(q[j + 4] & 63)) }
        return (Float(q[j + 4] & 0xF | (q[j - 4] >> 6) << 4), Float(q[j + 4] >> 4 | (q[j] >> 6) << 4))
    }

    static func qK(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, fifthBits: Bool) {
        let d = half(x, 0), dmin = half(x, 2)
        let bytes = x.assumingMemoryBound(to: UInt8.self)
        let scales = bytes + 4, qh = bytes + 16
        var ql = bytes + (fifthBits ? 48 : 16)
        var y = y
        for group in 0..<4 {
            let (sc1, m1) = scaleMin(2 * group, scales), (sc2, m2) = scaleMin(2 * group + 1, scales)
            let (d1, min1, d2, min2) = (d * sc1, dmin * m1, d * sc2, dmin * m2)
            let u1 = UInt8(1) << (2 * group), u2 = UInt8(2) << (2 * group)
            for l in 0..<32 {
                let high1: UInt8 = fifthBits && qh[l] & u1 != 0 ? 16 : 0, high2: UInt8 = fifthBits && qh[l] & u2 != 0 ? 16 : 0
                y[l] = d1 * Float(ql[l] & 0xF + high1) - min1
                y[l + 32] = d2 * Float(ql[l] >> 4 + high2) - min2
            }
            ql += 32
            y += 64
        }
    }

    static func q6_K(_ x: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let bytes = x.assumingMemoryBound(to: UInt8.self)
        let d = half(x, 208)
        var ql = bytes, qh = bytes + 128, y = y
        var scales = UnsafeRawPointer(bytes + 192).assumingMemoryBound(to: Int8.self)
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int(ql[l] & 0xF | (qh[l] >> 0 & 3) << 4) - 32, q2 = Int(ql[l + 32] & 0xF | (qh[l] >> 2 & 3) << 4) - 32
                let q3 = Int(ql[l] >> 4 | (qh[l] >> 4 & 3) << 4) - 32, q4 = Int(ql[l + 32] >> 4 | (qh[l] >> 6 & 3) << 4) - 32
                y[l] = d * Float(scales[s]) * Float(q1)
                y[l + 32] = d * Float(scales[s + 2]) * Float(q2)
                y[l + 64] = d * Float(scales[s + 4]) * Float(q3)
                y[l + 96] = d * Float(scales[s + 6]) * Float(q4)
            }
            y += 128
            ql += 64
            qh += 32
            scales += 8
        }
    }
}
