/// ggml's block quantization formats (llama.cpp, `ggml-quants.c`), 32 weights a block:
/// - Q8_0: an F16 scale d and 32 int8 q; x = d · q, d = max|x| / 127 (34 bytes);
/// - Q4_0: an F16 scale d and 16 bytes of nibbles (weight j in the low nibble of byte j, weight
///   j + 16 in the high nibble); x = d · (q − 8), d = (the x of largest magnitude) / −8 (18 bytes);
/// - Q4_1: F16 d and minimum m, then nibbles as Q4_0's; x = d · q + m, d = (max − min) / 15 (20 bytes).
public enum BlockQuantization: String, Sendable, CaseIterable {
    case q8_0, q4_0, q4_1

    public static let blockSize = 32

    public var blockBytes: Int {
        switch self {
        case .q8_0: 34
        case .q4_0: 18
        case .q4_1: 20
        }
    }

    /// The C kernels' name for the format (`coppice_dot_rows`).
    public var code: Int32 {
        switch self {
        case .q8_0: 0
        case .q4_0: 1
        case .q4_1: 2
        }
    }

    /// Bytes for `count` weights (a multiple of 32).
    public func byteCount(_ count: Int) -> Int { count / Self.blockSize * blockBytes }

    public func quantize(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        precondition(x.count % Self.blockSize == 0 && out.count >= byteCount(x.count), "quantizing needs whole blocks of 32")
        for block in 0..<(x.count / Self.blockSize) {
            let values = x.baseAddress! + block * Self.blockSize, base = block * blockBytes
            switch self {
            case .q8_0:
                var amax: Float = 0
                for i in 0..<32 { amax = max(amax, abs(values[i])) }
                let d = amax / 127, inverse: Float = d == 0 ? 0 : 1 / d
                out.storeBytes(of: Float16(d).bitPattern.littleEndian, toByteOffset: base, as: UInt16.self)
                for i in 0..<32 { out.storeBytes(of: Int8((values[i] * inverse).rounded()), toByteOffset: base + 2 + i, as: Int8.self) }
            case .q4_0:
                var amax: Float = 0, extreme: Float = 0
                for i in 0..<32 where abs(values[i]) > amax { amax = abs(values[i]); extreme = values[i] }
                let d = extreme / -8, inverse: Float = d == 0 ? 0 : 1 / d
                out.storeBytes(of: Float16(d).bitPattern.littleEndian, toByteOffset: base, as: UInt16.self)
                for j in 0..<16 {
                    let low = UInt8(min(15, Int8(values[j] * inverse + 8.5)))
                    let high = UInt8(min(15, Int8(values[j + 16] * inverse + 8.5)))
                    out.storeBytes(of: low | high << 4, toByteOffset: base + 2 + j, as: UInt8.self)
                }
            case .q4_1:
                var low = Float.greatestFiniteMagnitude, high = -Float.greatestFiniteMagnitude
                for i in 0..<32 { (low, high) = (min(low, values[i]), max(high, values[i])) }
                let d = (high - low) / 15, inverse: Float = d == 0 ? 0 : 1 / d
                out.storeBytes(of: Float16(d).bitPattern.littleEndian, toByteOffset: base, as: UInt16.self)
                out.storeBytes(of: Float16(low).bitPattern.littleEndian, toByteOffset: base + 2, as: UInt16.self)
                // ggml's rounding: + 0.5 and truncation, capped at 15 (NaN lands on 15 rather than trapping).
                func nibble(_ v: Float) -> UInt8 { UInt8(max(0, min(15, ((v - low) * inverse + 0.5).rounded(.towardZero)))) }
                for j in 0..<16 {
                    out.storeBytes(of: nibble(values[j]) | nibble(values[j + 16]) << 4, toByteOffset: base + 4 + j, as: UInt8.self)
                }
            }
        }
    }

    public func dequantize(_ bytes: UnsafeRawBufferPointer, count: Int, into x: UnsafeMutablePointer<Float>) {
        precondition(count % Self.blockSize == 0 && bytes.count >= byteCount(count), "dequantizing needs whole blocks of 32")
        for block in 0..<(count / Self.blockSize) {
            let base = block * blockBytes, out = x + block * Self.blockSize
            let d = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: base, as: UInt16.self))))
            switch self {
            case .q8_0:
                for i in 0..<32 { out[i] = d * Float(bytes.loadUnaligned(fromByteOffset: base + 2 + i, as: Int8.self)) }
            case .q4_0:
                for j in 0..<16 {
                    let byte = bytes[base + 2 + j]
                    out[j] = d * Float(Int(byte & 0x0F) - 8)
                    out[j + 16] = d * Float(Int(byte >> 4) - 8)
                }
            case .q4_1:
                let m = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 2, as: UInt16.self))))
                for j in 0..<16 {
                    let byte = bytes[base + 4 + j]
                    out[j] = Float(byte & 0x0F) * d + m
                    out[j + 16] = Float(byte >> 4) * d + m
                }
            }
        }
    }

    /// Activations as llama.cpp quantizes them for integer dot products with Q8_0 / Q4_0 / Q4_1
    /// weights: per 32 values a scale max|x| / 127 (rounded to F16, as ggml's Q8_0/Q8_1 activation
    /// blocks store it), int8 values round(x / unrounded scale) and their sum (the kernels take Q4_0's
    /// offset off, and add Q4_1's minimum, through it).
    public static func quantizeActivations(
        _ x: UnsafePointer<Float>, count: Int, scales: UnsafeMutablePointer<Float>,
        values: UnsafeMutablePointer<Int8>, sums: UnsafeMutablePointer<Int32>
    ) {
        precondition(count % blockSize == 0, "quantizing activations needs whole blocks of 32, got \(count)")
        for block in 0..<(count / blockSize) {
            let v = x + block * blockSize, q = values + block * blockSize
            var amax: Float = 0
            for i in 0..<blockSize { amax = max(amax, abs(v[i])) }
            let d = amax / 127, inverse: Float = d == 0 ? 0 : 1 / d
            scales[block] = Float(Float16(d))
            var sum: Int32 = 0
            for i in 0..<blockSize {
                q[i] = Int8((v[i] * inverse).rounded())
                sum += Int32(q[i])
            }
            sums[block] = sum
        }
    }
}
