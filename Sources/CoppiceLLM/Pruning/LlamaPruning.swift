import CoppiceKernels
import CoppiceTensor
import Foundation

/// One-shot pruning of every block's linear layers (q, k, v, o, gate, up, down), layer by layer on
/// calibration sequences, each layer's inputs coming from the layers before it already pruned (as
/// the Wanda and SparseGPT reference code run):
/// - magnitude: the smallest |W| of each matrix (N:M: of each group);
/// - Wanda (Sun et al. 2023): the smallest |W_ij|·‖X_j‖₂ of each output row, ‖X_j‖ the norm of input
///   feature j over the calibration tokens;
/// - SparseGPT (Frantar & Alistarh 2023): column by column, the weights with the smallest
///   w²/[H⁻¹]_jj² are removed and the row's remaining weights updated to compensate (optimal brain
///   surgeon with H = Σ x·xᵀ, dampened by `dampening`·mean diag), masks chosen per block of
///   `blockSize` columns and the updates to later blocks applied lazily in one product.
/// Unstructured sparsity s, or N:M (N weights kept of every M consecutive inputs of a row).
public struct LlamaPruning: Sendable {
    public enum Method: String, CaseIterable, Sendable, Codable { case magnitude, wanda, sparsegpt }

    public enum Pattern: Equatable, Sendable, CustomStringConvertible {
        case unstructured(Double)
        /// `kept` nonzero weights in every `group` consecutive inputs of a row (2:4, 4:8).
        case nOfM(kept: Int, group: Int)

        /// "0.5" or "2:4"; nil when neither is valid.
        public init?(_ text: String) {
            let parts = text.split(separator: ":")
            if parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]), n > 0, n < m {
                self = .nOfM(kept: n, group: m)
            } else if parts.count == 1, let s = Double(text), s > 0, s < 1 {
                self = .unstructured(s)
            } else {
                return nil
            }
        }

        public var sparsity: Double {
            switch self {
            case .unstructured(let s): s
            case .nOfM(let n, let m): 1 - Double(n) / Double(m)
            }
        }

        public var description: String {
            switch self {
            case .unstructured(let s): "\(s)"
            case .nOfM(let n, let m): "\(n):\(m)"
            }
        }
    }

    public var method: Method
    public var pattern: Pattern
    public var dampening = 0.01
    public var blockSize = 128

    public init(method: Method, pattern: Pattern) { (self.method, self.pattern) = (method, pattern) }

    public struct MatrixReport: Codable, Sendable {
        public var layer: Int, matrix: String
        /// Fraction of the matrix's weights that are zero after pruning.
        public var sparsity: Double
    }

    /// Prunes the runtime's matrices in place (stored back as F32) and reports each one's sparsity.
    /// `calibration` holds token sequences of at most the runtime's batch size (magnitude reads none).
    public func prune(_ runtime: LlamaRuntime, calibration: [[Int]], progress: (String) -> Void = { _ in }) throws -> [MatrixReport] {
        let c = runtime.configuration
        if case .nOfM(_, let m) = pattern, let bad = [c.hiddenSize, c.intermediateSize, c.heads * c.headDimension].first(where: { $0 % m != 0 }) {
            throw LlamaError.invalidConfiguration("\(pattern) sparsity needs every matrix width divisible by \(m); this model has \(bad)")
        }
        guard method == .magnitude || !calibration.isEmpty else { throw LlamaError.invalidInput("\(method) needs calibration sequences") }
        var hidden = calibration.map { runtime.embed($0) }
        var reports: [MatrixReport] = []
        for l in 0..<c.layers {
            let statistics = try method == .magnitude ? [:] : collect(runtime, layer: l, hidden: hidden)
            for (name, site) in LlamaRuntime.matrixSites {
                var (w, rows, columns) = runtime.weights(layer: l, name)
                switch method {
                case .magnitude: mask(&w, rows: rows, columns: columns, scores: w.map(abs), perRow: false)
                case .wanda:
                    let norms = statistics[site]!.map { Float($0.squareRoot()) }
                    mask(&w, rows: rows, columns: columns, scores: w.indices.map { abs(w[$0]) * norms[$0 % columns] }, perRow: true)
                case .sparsegpt: try sparseGPT(&w, rows: rows, columns: columns, hessian: statistics[site]!, name: "layer \(l) \(name)")
                }
                runtime.setWeights(layer: l, name, w)
                reports.append(MatrixReport(layer: l, matrix: name, sparsity: Double(w.filter { $0 == 0 }.count) / Double(w.count)))
            }
            // The pruned layer's outputs are the next layer's inputs.
            for s in hidden.indices { try runtime.runLayer(l, hidden: &hidden[s]) { _, _, _ in } }
            progress("layer \(l + 1)/\(c.layers) pruned")
        }
        runtime.reset()
        return reports
    }

    /// `count` sequences of `length` tokens taken evenly spaced through `ids` (at least `length` of them).
    public static func evenlySpaced(_ ids: [Int], count: Int, length: Int) -> [[Int]] {
        let step = max(1, (ids.count - length) / max(1, count - 1))
        return (0..<count).map { min($0 * step, ids.count - length) }.map { Array(ids[$0..<($0 + length)]) }
    }

    /// Per site, over every calibration token: Σ x_j² (Wanda) or Σ x·xᵀ (SparseGPT, row-major).
    func collect(_ runtime: LlamaRuntime, layer l: Int, hidden: [[Float]]) throws -> [LayerSite: [Double]] {
        var statistics: [LayerSite: [Double]] = [:]
        for sequence in hidden {
            var h = sequence
            try runtime.runLayer(l, hidden: &h) { site, input, rows in
                let n = input.count / max(rows, 1)
                if method == .wanda {
                    var sums = statistics[site] ?? [Double](repeating: 0, count: n)
                    for r in 0..<rows { for j in 0..<n { sums[j] += Double(input[r * n + j] * input[r * n + j]) } }
                    statistics[site] = sums
                } else {
                    var product = [Float](repeating: 0, count: n * n)
                    input.withUnsafeBufferPointer { x in
                        Gemm.compute(.transposed, .none, m: n, n: n, k: rows, x.baseAddress!, lda: n, x.baseAddress!, ldb: n, &product, ldc: n)
                    }
                    var sums = statistics[site] ?? [Double](repeating: 0, count: n * n)
                    for i in 0..<(n * n) { sums[i] += Double(product[i]) }
                    statistics[site] = sums
                }
            }
        }
        return statistics
    }

    /// Zeros the lowest-scoring weights: the pattern's share of each row (`perRow`) or of the whole
    /// matrix, or for N:M the lowest M − N of every group.
    func mask(_ w: inout [Float], rows: Int, columns: Int, scores: [Float], perRow: Bool) {
        func zeroLowest(_ range: Range<Int>, count: Int) {
            for (i, low) in zip(range, Self.lowest(scores[range], count: count)) where low { w[i] = 0 }
        }
        switch pattern {
        case .unstructured(let s):
            if perRow {
                for r in 0..<rows { zeroLowest((r * columns)..<((r + 1) * columns), count: Int(Double(columns) * s)) }
            } else {
                zeroLowest(w.indices, count: Int(Double(w.count) * s))
            }
        case .nOfM(let n, let m):
            // As `lowest` on each group, without its allocations (a 1B model has 300M groups of four):
            // a weight goes when fewer than M − N of its group score lower (ties: the earlier is lower).
            for start in stride(from: 0, to: w.count, by: m) {
                for i in start..<(start + m) {
                    var rank = 0
                    for j in start..<(start + m) where scores[j] < scores[i] || (scores[j] == scores[i] && j < i) { rank += 1 }
                    if rank < m - n { w[i] = 0 }
                }
            }
        }
    }

    /// Which `count` of `scores` are the lowest (ties to the earlier): exactly `count` marked, found by
    /// sorting the values once rather than indices through a comparison closure.
    static func lowest<C: Collection>(_ scores: C, count: Int) -> [Bool] where C.Element: Comparable {
        guard count > 0 else { return [Bool](repeating: false, count: scores.count) }
        var values = Array(scores)
        let threshold = kthSmallest(&values, min(count, values.count) - 1)
        var below = scores.filter { $0 < threshold }.count
        return scores.map { score in
            if score < threshold { return true }
            if score == threshold && below < count {
                below += 1
                return true
            }
            return false
        }
    }

    /// The value that would sit at `index` if `values` were sorted (Hoare's selection, expected linear
    /// time: a whole 1B-parameter matrix took minutes to sort); `values` is reordered.
    public static func kthSmallest<T: Comparable>(_ values: inout [T], _ index: Int) -> T {
        var (low, high) = (0, values.count - 1)
        var rng = SystemRandomNumberGenerator()
        while low < high {
            let pivot = values[Int.random(in: low...high, using: &rng)]
            var (i, j) = (low, high)
            while i <= j {
                while values[i] < pivot { i += 1 }
                while pivot < values[j] { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    (i, j) = (i + 1, j - 1)
                }
            }
            if index <= j {
                high = j
            } else if index >= i {
                low = i
            } else {
                return values[index]
            }
        }
        return values[index]
    }

    /// SparseGPT on one matrix (rows × columns, row-major) with its inputs' Σ x·xᵀ.
    func sparseGPT(_ weights: inout [Float], rows: Int, columns n: Int, hessian: [Double], name: String) throws {
        var h = hessian, w = weights.map(Double.init)
        // Inputs never active carry no information: their weights go, the Hessian stays invertible.
        for j in 0..<n where h[j * n + j] == 0 {
            h[j * n + j] = 1
            for r in 0..<rows { w[r * n + j] = 0 }
        }
        let damp = dampening * (0..<n).reduce(0.0) { $0 + h[$1 * n + $1] } / Double(n)
        for j in 0..<n { h[j * n + j] += damp }
        guard let u = DoublePrecision.upperFactorOfInverse(h, n: n) else {
            throw LlamaError.invalidInput("SparseGPT: the input Hessian of \(name) is not positive definite even dampened")
        }
        for i1 in stride(from: 0, to: n, by: blockSize) {
            let i2 = min(i1 + blockSize, n), count = i2 - i1
            var pruned = [Bool](repeating: false, count: rows * count), errors = [Double](repeating: 0, count: rows * count)
            func score(_ r: Int, _ j: Int) -> Double { w[r * n + j] * w[r * n + j] / (u[j * n + j] * u[j * n + j]) }
            if case .unstructured(let s) = pattern {
                // The block's share of the lowest scores over all rows (the adaptive mask).
                let all = (0..<(rows * count)).map { score($0 / count, i1 + $0 % count) }
                pruned = Self.lowest(all, count: Int(Double(rows * count) * s))
            }
            for i in 0..<count {
                let j = i1 + i, d = u[j * n + j]
                if case .nOfM(let keep, let m) = pattern, (j - i1) % m == 0 {
                    for r in 0..<rows {
                        let group = j..<min(j + m, i2)
                        for (k, low) in zip(group, Self.lowest(group.map { score(r, $0) }, count: m - keep)) where low {
                            pruned[r * count + (k - i1)] = true
                        }
                    }
                }
                for r in 0..<rows {
                    let value = w[r * n + j], kept = pruned[r * count + i] ? 0 : value, error = (value - kept) / d
                    w[r * n + j] = kept
                    errors[r * count + i] = error
                    if error != 0 { for k in (j + 1)..<i2 { w[r * n + k] -= error * u[j * n + k] } }
                }
            }
            // The block's errors, carried to every later column at once.
            if i2 < n {
                errors.withUnsafeBufferPointer { e in
                    u.withUnsafeBufferPointer { u in
                        w.withUnsafeMutableBufferPointer { w in
                            DoublePrecision.subtractProduct(
                                m: rows, n: n - i2, k: count, e.baseAddress!, lda: count, u.baseAddress! + i1 * n + i2, ldb: n,
                                w.baseAddress! + i2, ldc: n)
                        }
                    }
                }
            }
        }
        weights = w.map(Float.init)
    }
}

extension LlamaPruning {
    /// Magnitude pruning of `model`'s weights in place, without calibration or a runtime (speed
    /// files): every block's seven matrices and, with `includeOutput`, the output head (the embedding
    /// where the two are tied). Returns the matrices pruned.
    @discardableResult
    public static func pruneByMagnitude(_ model: Llama, pattern: Pattern, includeOutput: Bool) -> Int {
        let pruning = LlamaPruning(method: .magnitude, pattern: pattern)
        var parameters = model.body.layers.blocks.flatMap { b in [b.q, b.k, b.v, b.o, b.gate, b.up, b.down].map(\.weight) }
        if includeOutput { parameters.append(model.lmHead?.weight ?? model.body.embedTokens) }
        for p in parameters {
            let t = p.value
            var w = t.scalars
            pruning.mask(&w, rows: t.shape[0], columns: t.shape[1], scores: w.map(abs), perRow: false)
            p.value = Tensor(w).reshaped(t.shape)
        }
        return parameters.count
    }
}
