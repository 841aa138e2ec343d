import CoppiceKernels

extension LlamaRuntime {
    /// One new token for each of several sequences, run together: row i is `tokens[i]` appended to
    /// sequence `sequences[i]` (distinct sequences, at most `maxBatch`). The weights are read once for
    /// the whole batch, which is what makes concurrent streams pay on memory-bound decode; each row
    /// attends to its own sequence's cache. Returns the logits, [tokens.count × vocab].
    public func decode(_ tokens: [Int], sequences rows: [Int]) throws(LlamaError) -> [Float] {
        guard !tokens.isEmpty, tokens.count == rows.count, tokens.count <= maxBatch else {
            throw .invalidInput(
                "decode needs one token per sequence, 1...\(maxBatch) of them; got \(tokens.count) tokens for \(rows.count) sequences")
        }
        guard Set(rows).count == rows.count, rows.allSatisfy({ (0..<sequences).contains($0) }) else {
            throw .invalidInput("decode's sequences must be distinct, each in 0..<\(sequences); got \(rows)")
        }
        if let full = rows.first(where: { lengths[$0] >= maxSequence }) {
            throw .invalidInput("sequence \(full) holds \(lengths[full]) tokens, the whole context of \(maxSequence)")
        }
        try checkVocabulary(tokens)
        run(tokens, at: .tokens(rows.map { ($0, lengths[$0]) }), logitsFrom: 0)
        return Array(logitsBuffer[0..<(tokens.count * configuration.vocabularySize)])
    }

    /// Attention of one new row per sequence over that sequence's cache (its own position included),
    /// the (row, head) pairs split over the threads.
    func attention(tokens rows: [(sequence: Int, position: Int)], layer l: Int) {
        let c = configuration, hd = c.headDimension, group = c.heads / c.kvHeads
        let kvDimension = c.kvHeads * hd, qDimension = c.heads * hd, scale = 1 / Float(hd).squareRoot()
        let bases = rows.map { cacheOffset(layer: l, sequence: $0.sequence) }, pairs = rows.count * c.heads
        q.withUnsafeBufferPointer { qs in
            keys.withUnsafeBufferPointer { ks in
                values.withUnsafeBufferPointer { vs in
                    scores.withUnsafeMutableBufferPointer { ss in
                        attended.withUnsafeMutableBufferPointer { out in
                            let (qp, kp, vp, sp, op) = (qs.baseAddress!, ks.baseAddress!, vs.baseAddress!, ss.baseAddress!, out.baseAddress!)
                            let slots = min(pool.threadCount, pairs)
                            pool.parallelFor(slots) { slot in
                                let s = sp + slot * self.maxBatch * self.maxSequence
                                for pair in ThreadPool.range(of: slot, in: slots, count: pairs) {
                                    let (row, h) = pair.quotientAndRemainder(dividingBy: c.heads), g = h / group
                                    let span = rows[row].position + 1, query = qp + row * qDimension + h * hd
                                    Gemm.blas(
                                        .none, .transposed, m: 1, n: span, k: hd, alpha: scale, query, lda: qDimension,
                                        kp + bases[row] + g * hd, ldb: kvDimension, s, ldc: span)
                                    Softmax.forward(s, s, rows: 1, columns: span, pool: .serial)
                                    Gemm.blas(
                                        .none, .none, m: 1, n: hd, k: span, s, lda: span, vp + bases[row] + g * hd, ldb: kvDimension,
                                        op + row * qDimension + h * hd, ldc: qDimension)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
