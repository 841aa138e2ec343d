import CQuantizedDot

/// A weight matrix [rows × columns] kept in its storage format — F32, F16, BF16, or ggml's Q8_0 / Q4_0 /
/// Q4_1 blocks along each row — and multiplied without widening it in memory: y[t × rows] =
/// x[t × columns] · Wᵀ. One activation row (decode) runs a SIMD dot product per weight row, rows
/// split across the pool's threads (also for F32: faster than BLAS's GEMV here): F16 converted in
/// registers; Q8_0 / Q4_0 / Q4_1 against the row quantized to int8 blocks with integer multiply-adds
/// where the CPU has them (`quantizesActivations`), else widened to F32 in registers. Up to
/// `fewRows` F32/F16/BF16 rows run register tiles of rows × tokens on the stored rows
/// (`multiplyFewRows`). More rows (prefill) dequantize large panels into a per-task buffer and
/// multiply them with BLAS, so the conversion is paid once per panel, not once per token; except
/// interleaved Q8_0 / Q4_0 (`interleaved`), which multiply int8 activations directly in both cases,
/// BF16 on a CPU with AVX512-BF16, which multiplies BF16 pairs directly (`roundsActivationsToBF16`),
/// and F16 on an AVX-512 CPU, which widens 64-row panels into its own kernel's layout (`multiplyF16`).
/// Wide F32/F16/BF16 matrices are interleaved too, for decode (`coppice_float_dot_groups`); prefill
/// widens them back to rows.
/// A pruned matrix can be stored `masked` instead (`MaskedWeights`: its nonzeros only).
public struct WeightMatrix: @unchecked Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case f32, f16, bf16, q8_0, q4_0, q4_1
        /// Q8_0 / Q4_0 / Q4_1: rows in blocks of 32 weights with a scale each.
        public var isBlockQuantized: Bool { blocks != nil }
        /// The block format of Q8_0 / Q4_0 / Q4_1.
        public var blocks: BlockQuantization? { BlockQuantization(rawValue: rawValue) }
    }

    public let rows: Int
    public let columns: Int
    public let format: Format
    /// The rows in `format`, back to back; interleaved by eight where `interleaved`. A file's bytes
    /// in place (`WeightBytes.isMapped`) where they need no rearranging.
    public let storage: WeightBytes
    /// Q8_0 / Q4_0 rows in groups of 8 on a CPU with the integer kernels are stored interleaved
    /// (`coppice_interleave`, the same bytes rearranged): eight rows per integer product. So are
    /// F32/F16/BF16 rows of `wideRow` columns or more (`coppice_float_interleave`): eight rows per
    /// decode step, so that x stays in L1.
    public let interleaved: Bool
    /// A pruned matrix's nonzeros, in place of `storage` (which is then empty).
    public let masked: MaskedWeights?

    /// Columns from which F32/F16/BF16 rows are interleaved: x (in F32) fills half the L1 or more.
    public static let wideRow = 4096

    public var rowBytes: Int { Self.rowBytes(format, columns: columns) }

    public static func rowBytes(_ format: Format, columns: Int) -> Int {
        switch format {
        case .f32: 4 * columns
        case .f16, .bf16: 2 * columns
        case .q8_0, .q4_0, .q4_1: format.blocks!.byteCount(columns)
        }
    }

    /// Stores row-major `values` in `format` (Q8_0 / Q4_0 need columns in whole blocks of 32).
    public init(values: UnsafeBufferPointer<Float>, rows: Int, columns: Int, format: Format) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows)×\(columns) matrix")
        precondition(
            !format.isBlockQuantized || columns % BlockQuantization.blockSize == 0, "\(format) needs columns in blocks of 32, got \(columns)")
        self.rows = rows
        self.columns = columns
        self.format = format
        var bytes = [UInt8]()
        switch format {
        case .f32: bytes = Array(UnsafeRawBufferPointer(values))
        case .f16:
            bytes = [UInt8](repeating: 0, count: 2 * values.count)
            bytes.withUnsafeMutableBytes { raw in
                for i in 0..<values.count { raw.storeBytes(of: Float16(values[i]).bitPattern, toByteOffset: 2 * i, as: UInt16.self) }
            }
        case .bf16:
            bytes = [UInt8](repeating: 0, count: 2 * values.count)
            bytes.withUnsafeMutableBytes { raw in
                for i in 0..<values.count { raw.storeBytes(of: bfloat16Bits(values[i]), toByteOffset: 2 * i, as: UInt16.self) }
            }
        case .q8_0, .q4_0, .q4_1:
            let q = format.blocks!
            bytes = [UInt8](repeating: 0, count: q.byteCount(values.count))
            bytes.withUnsafeMutableBytes { q.quantize(values, into: $0) }
        }
        interleaved = Self.interleaves(format, rows: rows, columns: columns)
        storage =
            interleaved
            ? bytes.withUnsafeBytes { Self.interleave($0, format: format, rows: rows, columns: columns) } : WeightBytes(bytes)
        masked = nil
    }

    /// Wraps bytes already in `format` (a GGUF tensor), checking their size.
    public init(storage: [UInt8], rows: Int, columns: Int, format: Format) {
        self.init(storage: WeightBytes(storage), rows: rows, columns: columns, format: format)
    }

    /// Wraps bytes already in `format` — a mapped file's used in place unless this CPU's kernels want
    /// them interleaved (then rearranged into a copy) — checking their size.
    public init(storage: WeightBytes, rows: Int, columns: Int, format: Format) {
        self.rows = rows
        self.columns = columns
        self.format = format
        let expected = rows * Self.rowBytes(format, columns: columns)
        precondition(storage.count == expected, "\(storage.count) bytes for a \(rows)×\(columns) \(format) matrix of \(expected)")
        interleaved = Self.interleaves(format, rows: rows, columns: columns)
        if interleaved {
            self.storage = storage.withUnsafeBytes { Self.interleave($0, format: format, rows: rows, columns: columns) }
            storage.dropMappedPages()
        } else {
            self.storage = storage
        }
        masked = nil
    }

    /// A pruned matrix stored as its nonzeros.
    public init(masked: MaskedWeights) {
        (rows, columns, format) = (masked.rows, masked.columns, masked.format)
        (storage, interleaved, self.masked) = (WeightBytes([]), false, masked)
    }

    /// Q4_1 is not interleaved: its rows run one at a time, decode and prefill alike.
    static func interleaves(_ format: Format, rows: Int, columns: Int) -> Bool {
        rows % 8 == 0 && integerKernelsAvailable && format != .q4_1
            && (format.isBlockQuantized || (columns >= wideRow && columns % 8 == 0))
    }

    /// `source` rearranged in groups of eight rows, written straight into the matrix's own memory.
    static func interleave(_ source: UnsafeRawBufferPointer, format: Format, rows: Int, columns: Int) -> WeightBytes {
        // Every byte is written by the interleave: no zeroing pass first.
        WeightBytes(preferringHugePages: source.count) { out in
            if format.isBlockQuantized {
                coppice_interleave(
                    format == .q4_0 ? 1 : 0, Int32(rows), Int32(columns / BlockQuantization.blockSize), source.baseAddress, out.baseAddress)
            } else {
                coppice_float_interleave(floatCode(format), Int32(rows), Int32(columns), source.baseAddress, out.baseAddress)
            }
        }
    }

    /// Row `r` widened to F32.
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if let masked { return masked.expandRows(r..<(r + 1), into: out) }
        if interleaved && !format.isBlockQuantized {
            storage.withUnsafeBytes { coppice_float_widen_interleaved(floatCode, $0.baseAddress!, Int32(r), 1, Int32(columns), out) }
            return
        }
        if interleaved {
            withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 16) { row in
                copyStoredRow(r, into: row)
                format.blocks!.dequantize(UnsafeRawBufferPointer(row), count: columns, into: out)
            }
            return
        }
        storage.withUnsafeBytes { raw in
            let row = UnsafeRawBufferPointer(rebasing: raw[(r * rowBytes)..<((r + 1) * rowBytes)])
            switch format {
            case .f32: for j in 0..<columns { out[j] = row.loadUnaligned(fromByteOffset: 4 * j, as: Float.self) }
            case .f16, .bf16: coppice_float_widen(floatCode, row.baseAddress!, columns, out)
            case .q8_0, .q4_0, .q4_1: format.blocks!.dequantize(row, count: columns, into: out)
            }
        }
    }

    public func multiply(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        if t == 1 {
            multiplyVector(x, into: y, pool: pool)
        } else if let masked, masked.quantizesActivations && rows % 8 == 0 {
            // Pruned Q8_0 prefill in integers, as the dense rows run it (on CPUs with the integer masked kernel).
            multiplyInterleaved(x, count: t, into: y, pool: pool)
        } else if masked != nil {
            multiplyPanels(x, count: t, into: y, pool: pool)
        } else if format == .q4_1 && Self.integerKernelsAvailable {
            // As llama.cpp multiplies Q4_1 (no packed GEMM for it): each activation row quantized.
            multiplyQuantizedRows(x, count: t, into: y, pool: pool)
        } else if interleaved && format.isBlockQuantized {
            multiplyInterleaved(x, count: t, into: y, pool: pool)
        } else if t <= Self.fewRows && !format.isBlockQuantized {
            multiplyFewRows(x, count: t, into: y, pool: pool)
        } else if roundsActivationsToBF16(count: t) {
            multiplyBF16(x, count: t, into: y, pool: pool)
        } else if multipliesF16Panels {
            multiplyF16(x, count: t, into: y, pool: pool)
        } else if format == .f32 && !interleaved {
            storage.withUnsafeBytes { raw in
                Gemm.compute(
                    .none, .transposed, m: t, n: rows, k: columns, x, lda: columns,
                    raw.baseAddress!.assumingMemoryBound(to: Float.self), ldb: columns, y, ldc: rows, pool: pool)
            }
        } else {
            multiplyPanels(x, count: t, into: y, pool: pool)
        }
    }

    private func multiplyPanels(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        // Large panels: BLAS packs x again for every panel, which cost a fifth of the time with 64-row
        // panels at 512 tokens; a panel's buffer stays within 16 MiB and every thread gets one.
        let perThread = (rows + pool.threadCount - 1) / pool.threadCount
        let panel = max(16, min(perThread, (1 << 22) / columns)), panels = (rows + panel - 1) / panel
        pool.parallelFor(panels) { p in
            let r0 = p * panel, n = min(panel, self.rows - r0), bytes = n * self.columns * MemoryLayout<Float>.stride
            // Reused through the cache, as tensors' buffers are (the same sizes every layer).
            let buffer = BufferCache.shared.allocate(byteCount: bytes).bindMemory(to: Float.self, capacity: n * self.columns)
            defer { BufferCache.shared.deallocate(UnsafeMutableRawPointer(buffer), byteCount: bytes) }
            if let masked = self.masked {
                masked.expandRows(r0..<(r0 + n), into: buffer)
            } else if self.format.isBlockQuantized {
                for r in 0..<n { self.dequantizeRow(r0 + r, into: buffer + r * self.columns) }
            } else if self.interleaved {
                self.storage.withUnsafeBytes {
                    coppice_float_widen_interleaved(self.floatCode, $0.baseAddress!, Int32(r0), Int32(n), Int32(self.columns), buffer)
                }
            } else {
                self.storage.withUnsafeBytes { raw in
                    coppice_float_widen(self.floatCode, raw.baseAddress! + r0 * self.rowBytes, n * self.columns, buffer)
                }
            }
            Gemm.blas(.none, .transposed, m: t, n: n, k: self.columns, x, lda: self.columns, buffer, ldb: self.columns, y + r0, ldc: self.rows)
        }
    }

    /// Whether `multiply` with `t` activation rows quantizes them to int8 blocks first, as llama.cpp
    /// does: Q8_0 / Q4_0 weights, one row, a CPU with the integer kernels (`CQuantizedDot`); any
    /// number of rows when they are interleaved, or Q4_1; masked Q8_0, one row, where the CPU has
    /// AVX512-VBMI2 and VNNI (`MaskedWeights.quantizesActivations`).
    public func quantizesActivations(count t: Int) -> Bool {
        if let masked { return masked.quantizesActivations && (t == 1 || rows % 8 == 0) }
        return (t == 1 || interleaved || format == .q4_1) && format.isBlockQuantized && Self.integerKernelsAvailable
    }

    /// Whether this CPU runs the integer Q8_0 / Q4_0 kernels (x86-64 with AVX2, FMA and F16C).
    public static var integerKernelsAvailable: Bool { coppice_quantized_dot_available() != 0 }

    /// The ISA level of the model rows' kernels (`CQuantizedDot`), capped by `COPPICE_ISA` as the
    /// others, and whether BF16 rows use the CPU's BF16 dot products (`coppice doctor`).
    public static var rowKernels: (level: CPU.ISALevel, bf16DotProducts: Bool) {
        (CPU.ISALevel(rawValue: Int(coppice_rows_level())) ?? .generic, coppice_bf16_rows_available() != 0)
    }

    private func multiplyVector(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        withUnsafeTemporaryAllocation(of: WeightMatrix.self, capacity: 1) { matrices in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: 1) { outputs in
                matrices.initializeElement(at: 0, to: self)
                defer { matrices.deinitialize() }
                outputs[0] = y
                Self.multiplyVector(UnsafeBufferPointer(matrices), x, into: UnsafeBufferPointer(outputs), pool: pool)
            }
        }
    }

    /// outputs[m] = matrices[m] · x for one activation row and matrices of one format and width (a
    /// layer's q, k and v, or gate and up) in a single parallel dispatch, x quantized once: for a small
    /// model's decode the dispatches and the quantization are a sizeable part of a token.
    public static func multiplyVector(
        _ matrices: UnsafeBufferPointer<WeightMatrix>, _ x: UnsafePointer<Float>,
        into outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>, pool: ThreadPool = .shared
    ) {
        guard let first = matrices.first else { return }
        checkArgument(
            outputs.count == matrices.count
                && matrices.allSatisfy {
                    $0.columns == first.columns && $0.format == first.format && $0.interleaved == first.interleaved
                        && ($0.masked == nil) == (first.masked == nil)
                }, "one output per matrix, all of one format, layout and width")
        // Pieces split whole interleaved groups of 8 rows.
        let unit = first.interleaved ? 8 : 1, columns = first.columns, total = matrices.reduce(0) { $0 + $1.rows } / unit
        let pieces = total * unit * columns < 1 << 15 ? 1 : pool.threadCount * 4
        withStorageAddresses(matrices) { bases in
            // The matrices' units (rows, or interleaved groups of 8) stacked: the pieces split that
            // range, crossing matrix borders.
            func run(_ activations: QuantizedActivations?) {
                let body = { (piece: Int) in
                    let range = ThreadPool.range(of: piece, in: pieces, count: total)
                    var offset = 0
                    for (m, matrix) in matrices.enumerated() {
                        let low = max(range.lowerBound, offset), high = min(range.upperBound, offset + matrix.rows / unit)
                        if low < high {
                            matrix.multiplyRows((unit * (low - offset))..<(unit * (high - offset)), bases[m], x, activations, into: outputs[m])
                        }
                        offset += matrix.rows / unit
                    }
                }
                if pieces == 1 { body(0) } else { pool.parallelFor(pieces, body) }
            }
            guard first.quantizesActivations(count: 1) else { return run(nil) }
            let blocks = columns / BlockQuantization.blockSize
            // On the stack: decoding allocates nothing per token.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks) { scales in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: blocks) { sums in
                    // Twice the row: the int8 values, then the same + 128 (interleaved Q8_0's operand).
                    withUnsafeTemporaryAllocation(of: Int8.self, capacity: 2 * columns) { values in
                        let a = QuantizedActivations(
                            scales: scales.baseAddress!, values: values.baseAddress!, sums: sums.baseAddress!,
                            shifted: UnsafeMutableRawPointer(values.baseAddress! + columns).assumingMemoryBound(to: UInt8.self))
                        BlockQuantization.quantizeActivations(x, count: columns, scales: a.scales, values: a.values, sums: a.sums)
                        if first.interleaved && first.format == .q8_0 { coppice_shift_activations(a.values, columns, a.shifted) }
                        run(a)
                    }
                }
            }
        }
    }

    /// x quantized to int8 blocks (`BlockQuantization.quantizeActivations`).
    struct QuantizedActivations {
        var scales: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Int8>, sums: UnsafeMutablePointer<Int32>
        var shifted: UnsafeMutablePointer<UInt8>
    }

    /// y[r] = row r · x for the rows in `range`; `base` is the storage's address.
    func multiplyRows(
        _ range: Range<Int>, _ base: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ activations: QuantizedActivations?,
        into y: UnsafeMutablePointer<Float>
    ) {
        if let masked, let a = activations {
            masked.multiplyRows(range, quantizedScales: a.scales, values: a.values, sums: a.sums, into: y)
        } else if let masked {
            masked.multiplyRows(range, x, into: y)
        } else if interleaved && !format.isBlockQuantized {
            coppice_float_dot_groups(floatCode, base + range.lowerBound * rowBytes, Int32(range.count / 8), Int32(columns), x, y + range.lowerBound)
        } else if let a = activations, interleaved {
            multiplyGroups(
                base + range.lowerBound * rowBytes, count: range.count / 8, tokens: 1, a.scales, a.values, a.sums, a.shifted,
                into: y + range.lowerBound)
        } else if let a = activations {
            let first = (base + range.lowerBound * rowBytes).assumingMemoryBound(to: UInt8.self)
            coppice_dot_rows(
                format.blocks!.code, Int32(columns / BlockQuantization.blockSize), first, rowBytes, Int32(range.count),
                a.scales, a.values, a.sums, y + range.lowerBound)
        } else if Self.integerKernelsAvailable && !format.isBlockQuantized {
            coppice_float_dot_rows(
                floatCode, base + range.lowerBound * rowBytes, rowBytes, Int32(range.count), Int32(columns), x, y + range.lowerBound)
        } else {
            for r in range { y[r] = dot(base + r * rowBytes, x) }
        }
    }

    /// The storages' base addresses, valid inside `body` (one nested access per matrix, on the stack).
    private static func withStorageAddresses<R>(_ matrices: UnsafeBufferPointer<WeightMatrix>, _ body: (UnsafeBufferPointer<UnsafeRawPointer>) -> R)
        -> R
    {
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: matrices.count) { bases in
            func nest(_ m: Int) -> R {
                guard m < matrices.count else { return body(UnsafeBufferPointer(bases)) }
                return matrices[m].storage.withUnsafeBytes { raw in
                    // An empty storage (no rows) has no address; it is never read.
                    bases.initializeElement(at: m, to: raw.baseAddress ?? UnsafeRawPointer(bitPattern: MemoryLayout<Float>.alignment)!)
                    return nest(m + 1)
                }
            }
            return nest(0)
        }
    }

    /// The C kernels' name for F32 (0), F16 (1) and BF16 (2) storage (`coppice_float_dot_rows`).
    var floatCode: Int32 { Self.floatCode(format) }
    private static func floatCode(_ format: Format) -> Int32 { format == .f32 ? 0 : format == .f16 ? 1 : 2 }

    /// One stored row · x (the path of CPUs without the C kernels).
    @inline(__always)
    func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>) -> Float {
        var acc = SIMD16<Float>()
        switch format {
        case .f32:
            var j = 0
            while j + 16 <= columns {
                acc.addProduct(row.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self), load(x + j))
                j += 16
            }
            var sum = acc.sum()
            while j < columns { sum += row.loadUnaligned(fromByteOffset: 4 * j, as: Float.self) * x[j]; j += 1 }
            return sum
        // The lanes are filled one by one: LLVM turns these loops into vector widening conversions,
        // which the generic SIMD-to-SIMD initializers do not become (measured 4× slower).
        case .f16:
            var j = 0
            while j + 16 <= columns {
                var w = SIMD16<Float>()
                for l in 0..<16 { w[l] = Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: 2 * (j + l), as: UInt16.self))) }
                acc.addProduct(w, load(x + j))
                j += 16
            }
            var sum = acc.sum()
            while j < columns { sum += Float(Float16(bitPattern: row.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self))) * x[j]; j += 1 }
            return sum
        case .bf16:
            var j = 0
            while j + 16 <= columns {
                var w = SIMD16<Float>()
                for l in 0..<16 { w[l] = Float(bitPattern: UInt32(row.loadUnaligned(fromByteOffset: 2 * (j + l), as: UInt16.self)) << 16) }
                acc.addProduct(w, load(x + j))
                j += 16
            }
            var sum = acc.sum()
            while j < columns { sum += Float(bitPattern: UInt32(row.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)) << 16) * x[j]; j += 1 }
            return sum
        case .q8_0:
            for b in 0..<(columns / 32) {
                let block = row + 34 * b, xs = x + 32 * b
                let q = (block + 2).assumingMemoryBound(to: Int8.self)
                let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
                acc.addProduct(SIMD16<Float>(repeating: d), widen(q) * load(xs) + widen(q + 16) * load(xs + 16))
            }
            return acc.sum()
        case .q4_0:
            for b in 0..<(columns / 32) {
                let block = row + 18 * b, xs = x + 32 * b
                let packed = (block + 2).assumingMemoryBound(to: UInt8.self)
                let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
                let (low, high) = nibbles(packed)
                acc.addProduct(SIMD16<Float>(repeating: d), low * load(xs) + high * load(xs + 16))
            }
            return acc.sum()
        case .q4_1:
            var mins: Float = 0
            for b in 0..<(columns / 32) {
                let block = row + 20 * b, xs = x + 32 * b
                let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
                let m = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
                let (low, high) = nibbles((block + 4).assumingMemoryBound(to: UInt8.self), offset: 0)
                let (x0, x1) = (load(xs), load(xs + 16))
                acc.addProduct(SIMD16<Float>(repeating: d), low * x0 + high * x1)
                mins += m * (x0 + x1).sum()
            }
            return acc.sum() + mins
        }
    }

    @inline(__always)
    private func widen(_ q: UnsafePointer<Int8>) -> SIMD16<Float> {
        var f = SIMD16<Float>()
        for l in 0..<16 { f[l] = Float(q[l]) }
        return f
    }

    /// The 32 weights of a Q4_0 (or Q4_1) block's 16 bytes, minus `offset`: low nibbles first, then high.
    @inline(__always)
    private func nibbles(_ p: UnsafePointer<UInt8>, offset: Float = 8) -> (SIMD16<Float>, SIMD16<Float>) {
        // Bytes to 32-bit lanes first: the nibble masks and shifts are then plain vector ops.
        var w = SIMD16<Int32>()
        for l in 0..<16 { w[l] = Int32(p[l]) }
        let low = w & 15, high = w &>> 4
        var a = SIMD16<Float>(), b = SIMD16<Float>()
        for l in 0..<16 { a[l] = Float(low[l]) }
        for l in 0..<16 { b[l] = Float(high[l]) }
        let shift = SIMD16<Float>(repeating: offset)
        return (a - shift, b - shift)
    }

    /// Every row dequantized: [rows × columns] F32, row-major.
    public func dequantized() -> [Float] {
        var values = [Float](repeating: 0, count: rows * columns)
        values.withUnsafeMutableBufferPointer { v in
            for r in 0..<rows { dequantizeRow(r, into: v.baseAddress! + r * columns) }
        }
        return values
    }

    /// The plain definition: every row dequantized, then y = x · Wᵀ in scalar loops.
    public func reference(_ x: UnsafePointer<Float>, count t: Int, into y: UnsafeMutablePointer<Float>) {
        var row = [Float](repeating: 0, count: columns)
        for r in 0..<rows {
            row.withUnsafeMutableBufferPointer { dequantizeRow(r, into: $0.baseAddress!) }
            for i in 0..<t {
                var sum: Float = 0
                for j in 0..<columns { sum += x[i * columns + j] * row[j] }
                y[i * rows + r] = sum
            }
        }
    }
}
