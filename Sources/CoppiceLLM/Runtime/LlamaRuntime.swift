import CoppiceKernels
import CoppiceNN
import CoppiceTensor
import Foundation

/// Llama inference without the autograd tape: weights in flat row-major buffers, a key/value cache
/// and every scratch buffer allocated once, so neither prefill (a batch of prompt tokens through
/// GEMMs) nor decode (one token through GEMVs) allocates per token. Attention runs head by head on
/// the pool's threads (one score buffer per thread), each query head reading its KV group's rows of
/// the cache. The cache holds `sequences` independent sequences (one by default); `decode(_:sequences:)`
/// runs one new token of several of them through the weights together (continuous batching).
public final class LlamaRuntime {
    public let configuration: LlamaConfiguration
    public let maxSequence: Int
    public let maxBatch: Int
    /// Sequences the cache holds.
    public let sequences: Int
    /// Tokens in each sequence's cache.
    public private(set) var lengths: [Int]
    /// Tokens in sequence 0's cache.
    public var length: Int { lengths[0] }

    struct Layer {
        var attentionNorm: [Float], ffnNorm: [Float]
        var q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, o: WeightMatrix, gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix
        /// The matrices that decode multiplies by one input together (sharing the storages above).
        let qkv: [WeightMatrix], gateUp: [WeightMatrix]
        /// The seven, in `matrixSites` order.
        var matrices: [WeightMatrix] { [q, k, v, o, gate, up, down] }

        init(
            attentionNorm: [Float], ffnNorm: [Float], q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, o: WeightMatrix,
            gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix
        ) {
            (self.attentionNorm, self.ffnNorm) = (attentionNorm, ffnNorm)
            (self.q, self.k, self.v, self.o, self.gate, self.up, self.down) = (q, k, v, o, gate, up, down)
            let fused = { (m: [WeightMatrix]) in
                m.allSatisfy { $0.format == m[0].format && $0.columns == m[0].columns && $0.interleaved == m[0].interleaved } ? m : []
            }
            qkv = fused([q, k, v])
            gateUp = fused([gate, up])
        }
    }

    var layers: [Layer]
    var embedding: WeightMatrix, output: WeightMatrix
    let finalNorm: [Float]
    let rotary: RotaryEmbedding
    let pool: ThreadPool
    var keys: [Float], values: [Float]
    var x: [Float], normed: [Float], q: [Float], k: [Float], v: [Float], attended: [Float], projected: [Float]
    var gateBuffer: [Float], upBuffer: [Float], scores: [Float], logitsBuffer: [Float]

    /// The weights of `model` stored as `format` (Q8_0/Q4_0 need widths in blocks of 32); the cache
    /// holds `maxSequence` tokens, prefill runs up to `maxBatch` tokens at a time.
    public convenience init(
        model: Llama, format: WeightMatrix.Format = .f32, maxSequence: Int = 2048, maxBatch: Int = 512,
        pool: ThreadPool = .shared
    ) {
        func matrix(_ p: Parameter) -> WeightMatrix {
            let t = p.value
            return t.scalars.withUnsafeBufferPointer { WeightMatrix(values: $0, rows: t.shape[0], columns: t.shape[1], format: format) }
        }
        let layers = model.body.layers.blocks.map { b in
            Layer(
                attentionNorm: b.inputNorm.weight.value.scalars, ffnNorm: b.postAttentionNorm.weight.value.scalars,
                q: matrix(b.q.weight), k: matrix(b.k.weight), v: matrix(b.v.weight), o: matrix(b.o.weight),
                gate: matrix(b.gate.weight), up: matrix(b.up.weight), down: matrix(b.down.weight))
        }
        let embedding = matrix(model.body.embedTokens)
        self.init(
            configuration: model.configuration, layers: layers, embedding: embedding, finalNorm: model.body.norm.weight.value.scalars,
            output: model.lmHead.map { matrix($0.weight) } ?? embedding, maxSequence: maxSequence, maxBatch: maxBatch, pool: pool)
    }

    /// From weights already in their storage formats (a GGUF file's).
    init(
        configuration c: LlamaConfiguration, layers: [Layer], embedding: WeightMatrix, finalNorm: [Float], output: WeightMatrix,
        maxSequence: Int, maxBatch: Int, sequences: Int = 1, pool: ThreadPool
    ) {
        configuration = c
        self.maxSequence = maxSequence
        self.maxBatch = maxBatch
        self.sequences = max(1, sequences)
        lengths = [Int](repeating: 0, count: max(1, sequences))
        self.pool = pool
        self.layers = layers
        self.embedding = embedding
        self.finalNorm = finalNorm
        self.output = output
        rotary = RotaryEmbedding(configuration: c, positions: maxSequence)
        let kvDimension = c.kvHeads * c.headDimension
        keys = [Float](repeating: 0, count: c.layers * self.sequences * maxSequence * kvDimension)
        values = keys
        x = [Float](repeating: 0, count: maxBatch * c.hiddenSize)
        normed = x
        projected = x
        q = [Float](repeating: 0, count: maxBatch * c.heads * c.headDimension)
        attended = q
        k = [Float](repeating: 0, count: maxBatch * kvDimension)
        v = k
        gateBuffer = [Float](repeating: 0, count: maxBatch * c.intermediateSize)
        upBuffer = gateBuffer
        scores = [Float](repeating: 0, count: pool.threadCount * maxBatch * maxSequence)
        logitsBuffer = [Float](repeating: 0, count: maxBatch * c.vocabularySize)
    }

    /// A runtime on the same weights whose cache holds `sequences` sequences (a server's slots).
    public func withSequences(_ sequences: Int) -> LlamaRuntime {
        LlamaRuntime(
            configuration: configuration, layers: layers, embedding: embedding, finalNorm: finalNorm, output: output,
            maxSequence: maxSequence, maxBatch: maxBatch, sequences: sequences, pool: pool)
    }

    /// Empties a sequence's cache (a new conversation).
    public func reset(sequence: Int = 0) { lengths[sequence] = 0 }

    /// Keeps the first `count` tokens of a sequence's cache (a conversation that resends its history
    /// reuses the prefix both share).
    public func truncate(sequence: Int, to count: Int) { lengths[sequence] = min(lengths[sequence], max(0, count)) }

    /// Runs `tokens` after those in the cache of `sequence` and returns the logits of the last one
    /// ([vocab]), or of every one ([tokens.count × vocab]) with `allLogits`.
    public func forward(_ tokens: [Int], allLogits: Bool = false, sequence: Int = 0) throws(LlamaError) -> [Float] {
        let c = configuration
        guard !tokens.isEmpty else { throw .invalidInput("no tokens to run") }
        guard (0..<sequences).contains(sequence) else { throw .invalidInput("sequence \(sequence) of a cache for \(sequences)") }
        guard lengths[sequence] + tokens.count <= maxSequence else {
            throw .invalidInput("\(lengths[sequence]) cached + \(tokens.count) new tokens exceed the context of \(maxSequence)")
        }
        try checkVocabulary(tokens)
        var logits: [Float] = []
        for start in stride(from: 0, to: tokens.count, by: maxBatch) {
            let batch = Array(tokens[start..<min(start + maxBatch, tokens.count)])
            let last = start + batch.count == tokens.count
            run(batch, at: .block(sequence: sequence, start: lengths[sequence]), logitsFrom: allLogits ? 0 : (last ? batch.count - 1 : batch.count))
            if allLogits {
                logits += logitsBuffer[0..<(batch.count * c.vocabularySize)]
            } else if last {
                logits = Array(logitsBuffer[0..<c.vocabularySize])
            }
        }
        return logits
    }

    func checkVocabulary(_ tokens: [Int]) throws(LlamaError) {
        if let bad = tokens.first(where: { $0 < 0 || $0 >= configuration.vocabularySize }) {
            throw .invalidInput("token id \(bad) outside the vocabulary of \(configuration.vocabularySize)")
        }
    }

    /// One batch through every layer; logits of rows `logitsFrom...` land in `logitsBuffer`.
    func run(_ tokens: [Int], at placement: Placement, logitsFrom: Int) {
        let t = tokens.count, d = configuration.hiddenSize
        x.withUnsafeMutableBufferPointer { xs in
            for (row, token) in tokens.enumerated() { embedding.dequantizeRow(token, into: xs.baseAddress! + row * d) }
        }
        for l in layers.indices { runLayer(l, rows: t, at: placement, observe: nil) }
        switch placement {
        case .block(let sequence, _): lengths[sequence] += t
        case .tokens(let rows): for row in rows { lengths[row.sequence] += 1 }
        }
        let rows = t - logitsFrom
        guard rows > 0 else { return }
        let tail = Array(x[(logitsFrom * d)..<(t * d)])
        rmsNorm(tail, finalNorm, into: &normed, rows: rows)
        linear(normed, output, into: &logitsBuffer, rows: rows)
    }

    /// Where the rows of a batch belong: consecutive positions of one sequence (prefill), or one new
    /// token of each of several sequences (a batched decode step).
    enum Placement {
        case block(sequence: Int, start: Int)
        case tokens([(sequence: Int, position: Int)])

        func position(of row: Int) -> Int {
            switch self {
            case .block(_, let start): start + row
            case .tokens(let rows): rows[row].position
            }
        }
    }

    /// Layer `l` on the `t` rows of `x` at `placement`; `observe` sees the input of each group of
    /// matrices (q/k/v, o, gate/up, down) before they multiply it.
    func runLayer(_ l: Int, rows t: Int, at placement: Placement, observe: LayerObserver?) {
        let c = configuration, d = c.hiddenSize, kvDimension = c.kvHeads * c.headDimension, layer = layers[l]
        rmsNorm(x, layer.attentionNorm, into: &normed, rows: t)
        observe?(.attention, normed, t)
        if t == 1 && !layer.qkv.isEmpty {
            q.withUnsafeMutableBufferPointer { q in
                k.withUnsafeMutableBufferPointer { k in
                    v.withUnsafeMutableBufferPointer { v in linearVector(normed, layer.qkv, into: q.baseAddress!, k.baseAddress!, v.baseAddress!)
                    }
                }
            }
        } else {
            linear(normed, layer.q, into: &q, rows: t)
            linear(normed, layer.k, into: &k, rows: t)
            linear(normed, layer.v, into: &v, rows: t)
        }
        rotate(&q, rows: t, heads: c.heads, placement: placement)
        rotate(&k, rows: t, heads: c.kvHeads, placement: placement)
        switch placement {
        case .block(let sequence, let start):
            let cacheBase = cacheOffset(layer: l, sequence: sequence)
            appendToCache(at: cacheBase + start * kvDimension, from: 0, count: t * kvDimension)
            attention(rows: t, start: start, cacheBase: cacheBase)
        case .tokens(let rows):
            for (row, r) in rows.enumerated() {
                appendToCache(at: cacheOffset(layer: l, sequence: r.sequence) + r.position * kvDimension, from: row * kvDimension, count: kvDimension)
            }
            attention(tokens: rows, layer: l)
        }
        observe?(.output, attended, t)
        linear(attended, layer.o, into: &projected, rows: t)
        addInto(&x, projected, count: t * d)
        rmsNorm(x, layer.ffnNorm, into: &normed, rows: t)
        observe?(.feedForward, normed, t)
        if t == 1 && !layer.gateUp.isEmpty {
            gateBuffer.withUnsafeMutableBufferPointer { gate in
                upBuffer.withUnsafeMutableBufferPointer { up in linearVector(normed, layer.gateUp, into: gate.baseAddress!, up.baseAddress!) }
            }
        } else {
            linear(normed, layer.gate, into: &gateBuffer, rows: t)
            linear(normed, layer.up, into: &upBuffer, rows: t)
        }
        swiGLU(count: t * c.intermediateSize)
        observe?(.down, gateBuffer, t)
        linear(gateBuffer, layer.down, into: &projected, rows: t)
        addInto(&x, projected, count: t * d)
    }

    /// Where layer `l`'s cache of `sequence` starts in `keys` and `values`.
    func cacheOffset(layer l: Int, sequence: Int) -> Int {
        (l * sequences + sequence) * maxSequence * configuration.kvHeads * configuration.headDimension
    }

    /// `count` values of the batch's keys and values from `source` into the cache at `offset`.
    private func appendToCache(at offset: Int, from source: Int, count: Int) {
        k.withUnsafeBufferPointer { k in
            keys.withUnsafeMutableBufferPointer { keys in (keys.baseAddress! + offset).update(from: k.baseAddress! + source, count: count) }
        }
        v.withUnsafeBufferPointer { v in
            values.withUnsafeMutableBufferPointer { values in (values.baseAddress! + offset).update(from: v.baseAddress! + source, count: count) }
        }
    }

    /// y[rows × w.rows] = x[rows × w.columns] · Wᵀ.
    private func linear(_ x: [Float], _ w: WeightMatrix, into y: inout [Float], rows: Int) {
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in w.multiply(xs.baseAddress!, count: rows, into: ys.baseAddress!, pool: pool) }
        }
    }

    /// One row through two or three matrices at once (decode's q, k, v and gate, up): one dispatch,
    /// the output pointers on the stack (decode allocates nothing per token).
    private func linearVector(
        _ x: [Float], _ matrices: [WeightMatrix], into a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
        _ c: UnsafeMutablePointer<Float>? = nil
    ) {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: 3) { outputs in
            outputs[0] = a
            outputs[1] = b
            if let c { outputs[2] = c }
            x.withUnsafeBufferPointer { xs in
                matrices.withUnsafeBufferPointer { ms in
                    WeightMatrix.multiplyVector(ms, xs.baseAddress!, into: UnsafeBufferPointer(rebasing: outputs[0..<ms.count]), pool: pool)
                }
            }
        }
    }

    /// y += x, on the pool's threads.
    private func addInto(_ y: inout [Float], _ x: [Float], count: Int) {
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in Elementwise.axpy(1, xs.baseAddress!, ys.baseAddress!, count: count, pool: pool) }
        }
    }

    /// gate = silu(gate) · up, on the pool's threads.
    private func swiGLU(count: Int) {
        upBuffer.withUnsafeBufferPointer { up in
            gateBuffer.withUnsafeMutableBufferPointer { gate in
                Elementwise.unary(.silu, gate.baseAddress!, gate.baseAddress!, count: count, pool: pool)
                Elementwise.binary(.multiply, gate.baseAddress!, up.baseAddress!, gate.baseAddress!, count: count, pool: pool)
            }
        }
    }

    /// Rows normalized in parallel.
    private func rmsNorm(_ x: [Float], _ weight: [Float], into y: inout [Float], rows: Int) {
        let d = weight.count, epsilon = configuration.normEpsilon
        x.withUnsafeBufferPointer { xs in
            weight.withUnsafeBufferPointer { ws in
                y.withUnsafeMutableBufferPointer { ys in
                    let (xp, wp, yp) = (xs.baseAddress!, ws.baseAddress!, ys.baseAddress!)
                    pool.parallelRanges(rows, grain: max(1, 16_384 / d)) { range in
                        for r in range {
                            var sum: Float = 0
                            for j in 0..<d { sum += xp[r * d + j] * xp[r * d + j] }
                            let scale = 1 / (sum / Float(d) + epsilon).squareRoot()
                            for j in 0..<d { yp[r * d + j] = xp[r * d + j] * scale * wp[j] }
                        }
                    }
                }
            }
        }
    }

    /// Rotary embedding in place on [rows × heads × hd] at the rows' positions.
    private func rotate(_ buffer: inout [Float], rows: Int, heads: Int, placement: Placement) {
        let hd = configuration.headDimension, half = hd / 2
        for row in 0..<rows {
            let base = placement.position(of: row) * half
            for h in 0..<heads {
                let o = (row * heads + h) * hd
                for i in 0..<half {
                    let (cosine, sine) = (rotary.cosines[base + i], rotary.sines[base + i])
                    let (a, b) = (buffer[o + i], buffer[o + i + half])
                    buffer[o + i] = a * cosine - b * sine
                    buffer[o + i + half] = b * cosine + a * sine
                }
            }
        }
    }

    /// Causal attention of the new rows over the cache, the query heads split over the threads.
    private func attention(rows t: Int, start: Int, cacheBase: Int) {
        let c = configuration, hd = c.headDimension, group = c.heads / c.kvHeads
        let kvDimension = c.kvHeads * hd, qDimension = c.heads * hd, span = start + t
        let scale = 1 / Float(hd).squareRoot()
        q.withUnsafeBufferPointer { qs in
            keys.withUnsafeBufferPointer { ks in
                values.withUnsafeBufferPointer { vs in
                    scores.withUnsafeMutableBufferPointer { ss in
                        attended.withUnsafeMutableBufferPointer { out in
                            let (qp, kp, vp, sp, op) = (
                                qs.baseAddress!, ks.baseAddress! + cacheBase, vs.baseAddress! + cacheBase, ss.baseAddress!, out.baseAddress!
                            )
                            // One task per thread, each with its own score slot and a contiguous run of heads:
                            // one dispatch per layer (waves of one head per thread were 16 per 1B layer).
                            let slots = min(self.pool.threadCount, c.heads)
                            self.pool.parallelFor(slots) { slot in
                                let s = sp + slot * self.maxBatch * self.maxSequence
                                for h in ThreadPool.range(of: slot, in: slots, count: c.heads) {
                                    let g = h / group
                                    Gemm.blas(
                                        .none, .transposed, m: t, n: span, k: hd, alpha: scale, qp + h * hd, lda: qDimension,
                                        kp + g * hd, ldb: kvDimension, s, ldc: span)
                                    // Row `row` sees positions ..< start + row + 1: the softmax over those,
                                    // zeros after them.
                                    for row in 0..<t {
                                        let r = s + row * span, seen = start + row + 1
                                        Softmax.forward(r, r, rows: 1, columns: seen, pool: .serial)
                                        (r + seen).update(repeating: 0, count: span - seen)
                                    }
                                    Gemm.blas(
                                        .none, .none, m: t, n: hd, k: span, s, lda: span, vp + g * hd, ldb: kvDimension,
                                        op + h * hd, ldc: qDimension)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
