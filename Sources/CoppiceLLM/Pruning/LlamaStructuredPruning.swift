import CoppiceKernels
import Foundation

/// Structured pruning with physical compaction: the result is a smaller Llama (a narrower feed-forward
/// network, fewer blocks), not a masked one, so every kernel and file format runs it at its new size.
/// Scores come from one pass of the calibration sequences through the dense model:
/// - FFN channels: channel j of a block scores ‖X_j‖₂ · ‖W_down[:, j]‖₂, X_j the down projection's
///   input over the calibration tokens (Wanda's |W|·‖X‖ summed over the channel's outputs, the
///   structured form of Wanda-sp and FLAP). Every block keeps the same number of channels, its
///   highest-scoring ones (a GGUF Llama has one FFN width): their rows of gate and up and columns of down.
/// - Blocks: Block Influence (ShortGPT, Men et al. 2024), 1 − the mean cosine similarity between a
///   block's input and output hidden states over the calibration tokens; the least influential go.
public struct LlamaStructuredPruning: Sendable {
    public enum Target: Equatable, Sendable, CustomStringConvertible {
        /// Remove this fraction of every block's FFN channels.
        case ffnChannels(Double)
        /// Remove this many blocks.
        case blocks(Int)

        /// "ffn-channels:0.25" or "blocks:4"; nil when neither is valid.
        public init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 2 else { return nil }
            if parts[0] == "ffn-channels", let f = Double(parts[1]), f > 0, f < 1 {
                self = .ffnChannels(f)
            } else if parts[0] == "blocks", let n = Int(parts[1]), n > 0 {
                self = .blocks(n)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .ffnChannels(let f): "ffn-channels:\(f)"
            case .blocks(let n): "blocks:\(n)"
            }
        }
    }

    public var target: Target
    public init(target: Target) { self.target = target }

    /// Each block's scores: its FFN channels' and its influence.
    public struct Scores: Sendable {
        public var channels: [[Double]], influence: [Double]
    }

    /// The calibration sequences through every block of the dense model (each at most the runtime's batch).
    public func scores(_ runtime: LlamaRuntime, calibration: [[Int]]) throws -> Scores {
        let c = runtime.configuration, d = c.hiddenSize
        guard !calibration.isEmpty else { throw LlamaError.invalidInput("structured pruning needs calibration sequences") }
        var squares = [[Double]](repeating: [Double](repeating: 0, count: c.intermediateSize), count: c.layers)
        var cosines = [Double](repeating: 0, count: c.layers), tokens = 0
        for sequence in calibration {
            var h = runtime.embed(sequence)
            tokens += sequence.count
            for l in 0..<c.layers {
                let before = h
                try runtime.runLayer(l, hidden: &h) { site, input, rows in
                    guard site == .down else { return }
                    let n = c.intermediateSize
                    for r in 0..<rows { for j in 0..<n { squares[l][j] += Double(input[r * n + j] * input[r * n + j]) } }
                }
                for r in 0..<sequence.count { cosines[l] += cosine(before[(r * d)..<((r + 1) * d)], h[(r * d)..<((r + 1) * d)]) }
            }
        }
        runtime.reset()
        let channels = (0..<c.layers).map { l -> [Double] in
            let (down, rows, columns) = runtime.weights(layer: l, "down")
            var norms = [Double](repeating: 0, count: columns)
            for r in 0..<rows { for j in 0..<columns { norms[j] += Double(down[r * columns + j] * down[r * columns + j]) } }
            return (0..<columns).map { (squares[l][$0] * norms[$0]).squareRoot() }
        }
        return Scores(channels: channels, influence: cosines.map { 1 - $0 / Double(tokens) })
    }

    private func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var (dot, aa, bb) = (0.0, 0.0, 0.0)
        for (x, y) in zip(a, b) { (dot, aa, bb) = (dot + Double(x * y), aa + Double(x * x), bb + Double(y * y)) }
        return aa > 0 && bb > 0 ? dot / (aa * bb).squareRoot() : 1
    }

    /// Scores on `calibration`, then compacts: the smaller runtime and a line saying what it is.
    public func prune(_ runtime: LlamaRuntime, calibration: [[Int]]) throws -> (runtime: LlamaRuntime, summary: String) {
        let (pruned, removed) = try compact(runtime, scores: try scores(runtime, calibration: calibration))
        let c = pruned.configuration
        let blocks = c.layers < runtime.configuration.layers ? ", removed blocks \(removed)" : ""
        return (pruned, "\(target): \(c.layers) blocks, FFN width \(c.intermediateSize)\(blocks)")
    }

    /// A new runtime holding the smaller model (its matrices as F32), and what was removed: the blocks
    /// (original indices) or each block's removed channel count.
    public func compact(_ runtime: LlamaRuntime, scores: Scores) throws -> (runtime: LlamaRuntime, removed: [Int]) {
        var c = runtime.configuration
        switch target {
        case .blocks(let count):
            guard count < c.layers else { throw LlamaError.invalidInput("cannot remove \(count) of \(c.layers) blocks") }
            let removed = Array(scores.influence.indices.sorted { scores.influence[$0] < scores.influence[$1] }.prefix(count)).sorted()
            c.layers -= count
            let layers = runtime.layers.indices.filter { !removed.contains($0) }.map { runtime.layers[$0] }
            return (runtime.rebuilt(configuration: c, layers: layers), removed)
        case .ffnChannels(let fraction):
            let keep = max(1, c.intermediateSize - Int(Double(c.intermediateSize) * fraction)), removed = c.intermediateSize - keep
            let layers = runtime.layers.indices.map { l -> LlamaRuntime.Layer in
                let channels = scores.channels[l]
                let kept = channels.indices.sorted { channels[$0] > channels[$1] }.prefix(keep).sorted()
                let old = runtime.layers[l]
                func matrix(_ values: [Float], rows: Int, columns: Int) -> WeightMatrix {
                    values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: rows, columns: columns, format: .f32) }
                }
                func rows(_ name: String) -> WeightMatrix {
                    let (w, _, columns) = runtime.weights(layer: l, name)
                    return matrix(kept.flatMap { w[($0 * columns)..<(($0 + 1) * columns)] }, rows: keep, columns: columns)
                }
                let (down, downRows, downColumns) = runtime.weights(layer: l, "down")
                let narrowed = (0..<downRows).flatMap { r in kept.map { down[r * downColumns + $0] } }
                return LlamaRuntime.Layer(
                    attentionNorm: old.attentionNorm, ffnNorm: old.ffnNorm, q: old.q, k: old.k, v: old.v, o: old.o, gate: rows("gate"),
                    up: rows("up"), down: matrix(narrowed, rows: downRows, columns: keep))
            }
            c.intermediateSize = keep
            return (runtime.rebuilt(configuration: c, layers: layers), Array(repeating: removed, count: layers.count))
        }
    }
}

extension LlamaRuntime {
    /// This runtime's embedding, final norm and output head with another configuration and blocks.
    func rebuilt(configuration c: LlamaConfiguration, layers: [Layer]) -> LlamaRuntime {
        LlamaRuntime(
            configuration: c, layers: layers, embedding: embedding, finalNorm: finalNorm, output: output, maxSequence: maxSequence,
            maxBatch: maxBatch, pool: pool)
    }
}
