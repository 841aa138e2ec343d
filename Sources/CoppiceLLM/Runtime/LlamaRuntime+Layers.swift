import CoppiceKernels

/// Where in a layer a group of matrices reads its input.
public enum LayerSite: CaseIterable, Sendable {
    /// q, k and v: the normed residual stream.
    case attention
    /// o: the attention heads' output.
    case output
    /// gate and up: the normed residual stream after attention.
    case feedForward
    /// down: SiLU(gate) · up.
    case down
}

/// Sees `rows` input rows (row-major) of a site as the layer runs.
typealias LayerObserver = (LayerSite, [Float], Int) -> Void

extension LlamaRuntime {
    /// A layer's matrices by name (`q`, `k`, `v`, `o`, `gate`, `up`, `down`) and the site each reads.
    public static let matrixSites: [(name: String, site: LayerSite)] = [
        ("q", .attention), ("k", .attention), ("v", .attention), ("o", .output), ("gate", .feedForward), ("up", .feedForward),
        ("down", .down),
    ]

    /// The embeddings of `tokens` (row-major), the input of layer 0.
    public func embed(_ tokens: [Int]) -> [Float] {
        let d = configuration.hiddenSize
        var out = [Float](repeating: 0, count: tokens.count * d)
        out.withUnsafeMutableBufferPointer { o in
            for (row, token) in tokens.enumerated() { embedding.dequantizeRow(token, into: o.baseAddress! + row * d) }
        }
        return out
    }

    /// Layer `l` alone on `hidden` (the residual stream of one sequence from position 0, at most
    /// `maxSequence` rows), in place, `maxBatch` rows at a time through the layer's cache; `observe`
    /// sees each site's input (rows × `width(of:)`) once per chunk.
    public func runLayer(_ l: Int, hidden: inout [Float], observe: (LayerSite, [Float], Int) -> Void) throws(LlamaError) {
        let d = configuration.hiddenSize, t = hidden.count / d
        guard t > 0, t * d == hidden.count, t <= maxSequence, layers.indices.contains(l) else {
            throw .invalidInput("runLayer: \(hidden.count) values for rows of \(d), at most \(maxSequence) rows, layer \(l)")
        }
        reset()
        for start in stride(from: 0, to: t, by: maxBatch) {
            let rows = min(maxBatch, t - start), chunk = (start * d)..<((start + rows) * d)
            x.replaceSubrange(0..<chunk.count, with: hidden[chunk])
            // The scratch buffers hold maxBatch rows: the observer gets the chunk's rows of the site's width.
            withoutActuallyEscaping(observe) { observe in
                runLayer(l, rows: rows, at: .block(sequence: 0, start: start)) { site, input, n in
                    observe(site, Array(input[0..<(n * self.width(of: site))]), n)
                }
            }
            hidden.replaceSubrange(chunk, with: x[0..<chunk.count])
        }
    }

    /// The width of a site's input rows.
    public func width(of site: LayerSite) -> Int {
        let c = configuration
        switch site {
        case .attention, .feedForward: return c.hiddenSize
        case .output: return c.heads * c.headDimension
        case .down: return c.intermediateSize
        }
    }

    /// The matrix `name` of layer `l` as F32 rows ([rows × columns], row-major).
    public func weights(layer l: Int, _ name: String) -> (values: [Float], rows: Int, columns: Int) {
        let m = matrix(layer: l, name)
        return (m.dequantized(), m.rows, m.columns)
    }

    /// Replaces matrix `name` of layer `l` by `values` (same shape), stored as `format`.
    public func setWeights(layer l: Int, _ name: String, _ values: [Float], format: WeightMatrix.Format = .f32) {
        let old = matrix(layer: l, name)
        replace(
            layer: l, name, with: values.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: old.rows, columns: old.columns, format: format) })
    }

    /// Matrix `name` of layer `l` replaced by `m` (same shape), the fused decode groups rebuilt.
    func replace(layer l: Int, _ name: String, with m: WeightMatrix) {
        var layer = layers[l]
        switch name {
        case "q": layer.q = m
        case "k": layer.k = m
        case "v": layer.v = m
        case "o": layer.o = m
        case "gate": layer.gate = m
        case "up": layer.up = m
        default: layer.down = m
        }
        layers[l] = Layer(
            attentionNorm: layer.attentionNorm, ffnNorm: layer.ffnNorm, q: layer.q, k: layer.k, v: layer.v, o: layer.o, gate: layer.gate,
            up: layer.up, down: layer.down)
    }

    /// Block `l`'s matrix `name` (q, k, v, o, gate, up or down).
    public func matrix(layer l: Int, _ name: String) -> WeightMatrix {
        let layer = layers[l]
        switch name {
        case "q": return layer.q
        case "k": return layer.k
        case "v": return layer.v
        case "o": return layer.o
        case "gate": return layer.gate
        case "up": return layer.up
        case "down": return layer.down
        default: preconditionFailure("no matrix \(name) in a layer")
        }
    }
}
