import CCPUDispatch
import CQuantizedDot

/// A pruned weight matrix stored for decode: each row as a bitmask of its nonzero columns and those
/// values packed in column order, in the matrix's own value type (F32, F16, BF16, or Q8_0's int8 with
/// its scale per 32 columns). Decode reads every weight once per token and is bound by memory, so
/// the bytes are the speed: at 50% zeros an F16 row moves 1 + 1/8 bytes per column instead of 2
/// (56%), Q8_0 0.69 instead of 1.06. N:M patterns (2:4, 4:8) are stored the same way: a mask bit per
/// column costs what 2:4's two 2-bit positions per four columns cost, and less than 4:8's.
///
/// `coppice_masked_rows` multiplies rows by a vector, dispatched by CPUID: AVX512-VBMI2 `vpexpandw` for
/// F16/BF16, AVX-512 `vexpandps`, AVX2 permutations, a portable twin; Q8_0 with VBMI2 and VNNI runs
/// in integers against x's int8 blocks (`coppice_masked_rows_q8_integer`). Prefill widens rows back to
/// F32 for the GEMM (`coppice_masked_expand`), Q8_0 there back to its blocks for the integer GEMM.
public struct MaskedWeights: Sendable {
    public let rows: Int
    public let columns: Int
    /// The value type: .f32, .f16, .bf16 or .q8_0.
    public let format: WeightMatrix.Format
    /// Row r's mask is bytes [r·columns/8, (r+1)·columns/8); bit j of byte b is column 8b + j.
    let masks: [UInt8]
    /// The rows' kept values back to back, then `padding` bytes the vector kernels may read.
    let values: [UInt8]
    /// Where each row's values start in `values`, in bytes.
    let offsets: [Int64]
    /// Q8_0: each row's F16 block scales, columns/32 per row; empty otherwise.
    let scales: [UInt16]
    /// Nonzero weights stored.
    public let nonzeros: Int

    static let padding = 64

    /// Whether `format` rows of `columns` can be stored masked.
    public static func supports(_ format: WeightMatrix.Format, columns: Int) -> Bool {
        columns > 0 && columns % 32 == 0 && [.f32, .f16, .bf16, .q8_0].contains(format)
    }

    /// Bytes a product reads from the weights: masks, values and scales.
    public var byteCount: Int { masks.count + values.count - Self.padding + 2 * scales.count }

    /// `matrix` with its zeros dropped and every other value exactly as stored (packed at `level`,
    /// default the dispatched one).
    public init(_ matrix: WeightMatrix, level: Int32? = nil) { self.init(matrix, level: level ?? coppice_isa(), nonzeros: nil) }

    /// As above, with the matrix's nonzero count when the caller has already counted it.
    init(_ matrix: WeightMatrix, level: Int32, nonzeros counted: Int?) {
        precondition(
            matrix.rows > 0 && Self.supports(matrix.format, columns: matrix.columns),
            "\(matrix.rows) \(matrix.format) rows of \(matrix.columns) cannot be masked")
        (rows, columns, format) = (matrix.rows, matrix.columns, matrix.format)
        let code = Self.code(format), valueSize = format == .f32 ? 4 : format == .q8_0 ? 1 : 2, width = matrix.columns
        let kept = counted ?? matrix.nonzeroCount(rows: 0..<matrix.rows, level: level)
        var bits = [UInt8](repeating: 0, count: rows * columns / 8), packed = [UInt8](repeating: 0, count: kept * valueSize + Self.padding)
        var starts = [Int64](repeating: 0, count: rows)
        var blockScales = [UInt16](repeating: 0, count: format == .q8_0 ? rows * columns / BlockQuantization.blockSize : 0)
        withUnsafeTemporaryAllocation(byteCount: matrix.rowBytes, alignment: 16) { row in
            bits.withUnsafeMutableBufferPointer { bits in
                packed.withUnsafeMutableBufferPointer { packed in
                    blockScales.withUnsafeMutableBufferPointer { scales in
                        var offset = 0
                        for r in 0..<matrix.rows {
                            matrix.copyStoredRow(r, into: row)
                            starts[r] = Int64(offset)
                            offset += coppice_masked_pack_row(
                                level, code, row.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(width), bits.baseAddress! + r * width / 8,
                                packed.baseAddress! + offset, scales.baseAddress.map { $0 + r * width / BlockQuantization.blockSize })
                        }
                    }
                }
            }
        }
        (masks, values, offsets, scales, nonzeros) = (bits, packed, starts, blockScales, kept)
    }

    /// The C kernels' name for a value type.
    static func code(_ format: WeightMatrix.Format) -> Int32 {
        switch format {
        case .f32: 0
        case .f16: 1
        case .bf16: 2
        default: 3
        }
    }

    private var code: Int32 { Self.code(format) }

    /// Whether decode multiplies x quantized to int8 blocks, as dense Q8_0 rows do (Q8_0 values on a
    /// CPU with AVX512-VBMI2 and VNNI: `coppice_masked_rows_q8_integer`).
    public var quantizesActivations: Bool { Self.quantizesActivations(format, level: coppice_isa()) }

    static func quantizesActivations(_ format: WeightMatrix.Format, level: Int32) -> Bool {
        format == .q8_0 && coppice_masked_q8_integer(level) != 0
    }

    /// y[r] = row r · x for r in `range`, at `level` (default: the dispatched one); x quantized to int8
    /// blocks first where that level's Q8_0 kernel takes it so.
    public func multiplyRows(_ range: Range<Int>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, level: Int32? = nil) {
        let level = level ?? coppice_isa()
        if Self.quantizesActivations(format, level: level) {
            let blocks = columns / BlockQuantization.blockSize
            var (scales, values, sums) = (
                [Float](repeating: 0, count: blocks), [Int8](repeating: 0, count: columns), [Int32](repeating: 0, count: blocks)
            )
            BlockQuantization.quantizeActivations(x, count: columns, scales: &scales, values: &values, sums: &sums)
            return multiplyRows(range, quantizedScales: scales, values: values, sums: sums, into: y)
        }
        withBuffers { masks, values, offsets, scales in
            coppice_masked_rows_level(level, code, masks, values, offsets, scales, range.lowerBound, range.upperBound, Int32(columns), x, y)
        }
    }

    /// y[r] = row r · x for r in `range`, x quantized to int8 blocks (`BlockQuantization.quantizeActivations`);
    /// only where `quantizesActivations`.
    public func multiplyRows(
        _ range: Range<Int>, quantizedScales xScales: UnsafePointer<Float>, values xValues: UnsafePointer<Int8>, sums: UnsafePointer<Int32>,
        into y: UnsafeMutablePointer<Float>
    ) {
        precondition(quantizesActivations, "the integer Q8_0 kernel needs Q8_0 values and a CPU with AVX512-VBMI2 and VNNI")
        withBuffers { masks, values, offsets, scales in
            coppice_masked_rows_q8_integer(
                masks, values, offsets, scales, range.lowerBound, range.upperBound, Int32(columns), xScales, xValues, sums, y)
        }
    }

    /// Rows `range` widened to F32, back to back from `out`.
    public func expandRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, level: Int32? = nil) {
        withBuffers { masks, values, offsets, scales in
            coppice_masked_expand_level(
                level ?? coppice_isa(), code, masks, values, offsets, scales, range.lowerBound, range.upperBound, Int32(columns), out)
        }
    }

    /// Q8_0 rows `range` as ggml Q8_0 blocks again, back to back from `out`.
    public func q8Blocks(_ range: Range<Int>, into out: UnsafeMutablePointer<UInt8>) {
        precondition(format == .q8_0, "Q8_0 blocks of \(format) values")
        withBuffers { masks, values, offsets, scales in
            coppice_masked_q8_blocks(masks, values, offsets, scales, range.lowerBound, range.upperBound, Int32(columns), out)
        }
    }

    private func withBuffers<R>(
        _ body: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<Int64>, UnsafePointer<UInt16>?) -> R
    ) -> R {
        masks.withUnsafeBufferPointer { m in
            values.withUnsafeBufferPointer { v in
                offsets.withUnsafeBufferPointer { o in
                    scales.withUnsafeBufferPointer { s in body(m.baseAddress!, v.baseAddress!, o.baseAddress!, s.baseAddress) }
                }
            }
        }
    }
}

extension WeightMatrix {
    /// This matrix stored masked where `MaskedWeights` supports its format and width and at least
    /// `minimumSparsity` of its weights are zero; nil otherwise.
    public func maskedIfSparse(minimumSparsity: Double) -> WeightMatrix? {
        guard masked == nil, rows > 0, MaskedWeights.supports(format, columns: columns) else { return nil }
        // A dense matrix shows in 64 rows spread over it (zeros under half the threshold), so that
        // loading need not read every weight of a dense file (a mapped file's pages stay unread).
        let sample = Array(stride(from: 0, to: rows, by: max(1, rows / 64)))
        if sample.count < rows, Double(sample.count * columns - nonzeroCount(rows: sample)) < minimumSparsity / 2 * Double(sample.count * columns) {
            return nil
        }
        let nonzeros = nonzeroCount(rows: 0..<rows)
        guard Double(rows * columns - nonzeros) >= minimumSparsity * Double(rows * columns) else { return nil }
        return WeightMatrix(masked: MaskedWeights(self, level: coppice_isa(), nonzeros: nonzeros))
    }

    /// Nonzero weights as stored in `rows` (one pass over them, in C).
    func nonzeroCount(rows: some Sequence<Int>, level: Int32 = coppice_isa()) -> Int {
        withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 16) { row in
            rows.reduce(0) { count, r in
                copyStoredRow(r, into: row)
                return count
                    + coppice_row_nonzeros(level, MaskedWeights.code(format), row.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(columns))
            }
        }
    }

    /// Bytes a product with one activation row reads from the weights.
    public var byteCount: Int { masked?.byteCount ?? storage.count }

    /// Row `r` as stored (values, or Q8_0 / Q4_0 / Q4_1 blocks), not interleaved.
    func copyStoredRow(_ r: Int, into out: UnsafeMutableRawBufferPointer) {
        precondition(masked == nil && out.count >= rowBytes, "row \(r) needs \(rowBytes) bytes, got \(out.count)")
        storage.withUnsafeBytes { raw in
            if !interleaved {
                out.baseAddress!.copyMemory(from: raw.baseAddress! + r * rowBytes, byteCount: rowBytes)
            } else if !format.isBlockQuantized {
                // Eight rows interleaved by pieces of eight values (`coppice_float_interleave`).
                let piece = rowBytes / columns * 8, group = raw.baseAddress! + (r / 8) * 8 * rowBytes
                for c in 0..<(columns / 8) {
                    (out.baseAddress! + c * piece).copyMemory(from: group + (c * 8 + r % 8) * piece, byteCount: piece)
                }
            } else {
                let group = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + (r / 8) * 8 * rowBytes
                coppice_deinterleave_row(
                    format == .q4_0 ? 1 : 0, Int32(columns / BlockQuantization.blockSize), group, Int32(r % 8),
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
    }
}
