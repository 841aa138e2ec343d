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

extension LlamaRuntime {
    /// New tokens for several sequences in one pass through the weights: each entry appends its tokens
    /// (a prompt, or one decoded token) to its sequence, so a request's prompt joins the running ones'
    /// decode step instead of stalling it. Returns each entry's last-token logits, in entry order. At
    /// most `maxBatch` tokens in all, one entry per sequence.
    public func step(_ entries: [(sequence: Int, tokens: [Int])]) throws(LlamaError) -> [[Float]] {
        let total = entries.reduce(0) { $0 + $1.tokens.count }
        guard !entries.isEmpty, entries.allSatisfy({ !$0.tokens.isEmpty }), total <= maxBatch else {
            throw .invalidInput("a step takes 1...\(maxBatch) tokens, at least one per entry; got \(entries.map(\.tokens.count))")
        }
        guard Set(entries.map(\.sequence)).count == entries.count, entries.allSatisfy({ (0..<sequences).contains($0.sequence) }) else {
            throw .invalidInput("a step's sequences must be distinct, each in 0..<\(sequences); got \(entries.map(\.sequence))")
        }
        if let full = entries.first(where: { lengths[$0.sequence] + $0.tokens.count > maxSequence }) {
            throw .invalidInput(
                "sequence \(full.sequence): \(lengths[full.sequence]) cached + \(full.tokens.count) new tokens exceed the context of \(maxSequence)")
        }
        for entry in entries { try checkVocabulary(entry.tokens) }
        // Every entry's tokens but its last first, then the last ones: their logits are the rows from
        // `logitsFrom` on, in entry order.
        var tokens: [Int] = [], rows: [(sequence: Int, position: Int)] = []
        for e in entries {
            for (k, token) in e.tokens.dropLast().enumerated() {
                tokens.append(token)
                rows.append((e.sequence, lengths[e.sequence] + k))
            }
        }
        let logitsFrom = tokens.count
        for e in entries {
            tokens.append(e.tokens.last!)
            rows.append((e.sequence, lengths[e.sequence] + e.tokens.count - 1))
        }
        run(tokens, at: .tokens(rows), logitsFrom: logitsFrom)
        let vocabulary = configuration.vocabularySize
        return entries.indices.map { Array(logitsBuffer[($0 * vocabulary)..<(($0 + 1) * vocabulary)]) }
    }
}
