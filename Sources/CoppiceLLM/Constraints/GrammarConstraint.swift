/// A tokenizer's ordinary tokens (special and control tokens left out) as a byte trie, so that a
/// grammar tests every token that shares a prefix once for that prefix. Built once per model.
public final class TokenVocabulary: Sendable {
    struct Node: Sendable {
        var children: [(byte: UInt8, node: Int32)] = []
        var tokens: [Int32] = []
    }

    let pieces: [Int: [UInt8]]
    let nodes: [Node]
    /// Tokens that end a reply; a constrained reply may take one only where its grammar is complete.
    public let stopTokens: Set<Int>

    public init(tokenizer: any TextTokenizer) {
        pieces = tokenizer.textPieces().filter { !$0.value.isEmpty }
        stopTokens = tokenizer.stopTokens
        var nodes = [Node()]
        for (id, bytes) in pieces {
            var at = 0
            for byte in bytes {
                if let child = nodes[at].children.first(where: { $0.byte == byte }) {
                    at = Int(child.node)
                } else {
                    nodes.append(Node())
                    nodes[at].children.append((byte, Int32(nodes.count - 1)))
                    at = nodes.count - 1
                }
            }
            nodes[at].tokens.append(Int32(id))
        }
        self.nodes = nodes
    }
}

/// One reply held to a grammar while it is generated (llama.cpp's grammar sampling): a sampled token
/// the grammar refuses is replaced by a draw from the logits with every refused token masked, and a
/// stop token is allowed only where the reply so far is a whole sentence of the grammar (and is the
/// only choice once nothing can follow). Used from one thread at a time.
public final class GrammarConstraint: @unchecked Sendable {
    public let vocabulary: TokenVocabulary
    public private(set) var matcher: GrammarMatcher

    public init(grammar: ByteGrammar, vocabulary: TokenVocabulary) {
        self.vocabulary = vocabulary
        matcher = GrammarMatcher(grammar: grammar)
    }

    /// Whether `token` may come next.
    public func allows(_ token: Int) -> Bool {
        if vocabulary.stopTokens.contains(token) { return matcher.isComplete }
        guard let piece = vocabulary.pieces[token] else { return false }
        return matcher.advanced(by: piece) != nil
    }

    /// `logits` with every token that may not come next at -∞.
    public func masked(_ logits: [Float]) -> [Float] {
        var out = [Float](repeating: -.infinity, count: logits.count)
        if matcher.isComplete { for token in vocabulary.stopTokens where token < logits.count { out[token] = logits[token] } }
        func visit(_ node: Int, _ matcher: GrammarMatcher) {
            for child in vocabulary.nodes[node].children {
                guard let next = matcher.advanced(by: child.byte) else { continue }
                for token in vocabulary.nodes[Int(child.node)].tokens where Int(token) < logits.count { out[Int(token)] = logits[Int(token)] }
                visit(Int(child.node), next)
            }
        }
        visit(0, matcher)
        return out
    }

    /// Picks the next token with `sampler`, held to the grammar; nil when no token may come next.
    public func next(_ logits: [Float], sampler: inout Sampler, history: [Int]) -> Int? {
        let token = sampler.next(logits, history: history)
        if allows(token) { return token }
        let masked = masked(logits)
        guard masked.contains(where: { $0 > -.infinity }) else { return nil }
        return sampler.next(masked, history: history)
    }

    /// Moves past `token` (which `allows`).
    public func accept(_ token: Int) {
        guard !vocabulary.stopTokens.contains(token), let piece = vocabulary.pieces[token], let next = matcher.advanced(by: piece) else { return }
        matcher = next
    }
}
