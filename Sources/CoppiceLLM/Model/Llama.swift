import CoppiceNN
import CoppiceTensor
import Foundation

/// Llama 3 (papers.md §4.2) on the engine's differentiable ops, so it trains and fine-tunes like any
/// other module: pre-norm blocks of grouped-query attention with rotary embeddings and a SwiGLU
/// feed-forward, RMSNorm, no biases, optionally tied input/output embeddings. Parameter names are
/// Hugging Face's (`model.layers.0.self_attn.q_proj.weight`, …), so a `model.safetensors` loads
/// with `load(stateDict:)`.
public final class Llama: Module {
    public let configuration: LlamaConfiguration
    public let body: LlamaBody
    /// The output projection; nil when tied to the input embedding.
    public let lmHead: Linear?
    public let rotary: RotaryEmbedding

    /// Random weights as Hugging Face initializes them: N(0, 0.02), norms at 1.
    public init(_ configuration: LlamaConfiguration, maxSequence: Int = 2048, using rng: inout RandomGenerator) throws(LlamaError) {
        try configuration.validate()
        self.configuration = configuration
        body = LlamaBody(configuration, using: &rng)
        lmHead = configuration.tieWordEmbeddings ? nil : Linear(configuration.hiddenSize, configuration.vocabularySize, using: &rng)
        rotary = RotaryEmbedding(configuration: configuration, positions: maxSequence)
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.module("model", body)
        if let lmHead { v.module("lm_head", lmHead) }
    }

    /// Logits [B, T, vocab] for token ids [B][T] (all rows the same length), causal attention.
    public func callAsFunction(_ tokens: [[Int]]) throws(LlamaError) -> Tensor {
        let b = tokens.count, t = tokens.first?.count ?? 0
        guard b > 0, t > 0, tokens.allSatisfy({ $0.count == t }) else { throw .invalidInput("token rows must be non-empty and of equal length") }
        guard t <= rotary.positions else { throw .invalidInput("\(t) tokens exceed the \(rotary.positions) positions this model was built for") }
        if let bad = tokens.joined().first(where: { $0 < 0 || $0 >= configuration.vocabularySize }) {
            throw .invalidInput("token id \(bad) outside the vocabulary of \(configuration.vocabularySize)")
        }
        var h: Tensor
        do { h = try body.embedTokens.tensor.embedding(Array(tokens.joined())).reshaped([b, t, configuration.hiddenSize]) } catch {
            throw .invalidInput("\(error)")
        }
        let mask = Tensor((0..<(t * t)).map { $0 % t > $0 / t ? -Float.infinity : 0 }).reshaped([t, t])
        for block in body.layers.blocks { h = block(h, rotary: rotary, mask: mask) }
        h = body.norm(h)
        if let lmHead { return lmHead(h) }
        return matmul(h.reshaped([b * t, configuration.hiddenSize]), body.embedTokens.tensor.transposed()).reshaped([
            b, t, configuration.vocabularySize,
        ])
    }
}

/// `model.*`: the embedding, the blocks and the final norm.
public final class LlamaBody: Module {
    public let embedTokens: Parameter
    public let layers: LlamaLayers
    public let norm: RMSNorm

    init(_ c: LlamaConfiguration, using rng: inout RandomGenerator) {
        embedTokens = Parameter(.normal([c.vocabularySize, c.hiddenSize], standardDeviation: 0.02, using: &rng))
        layers = LlamaLayers((0..<c.layers).map { _ in LlamaBlock(c, using: &rng) })
        norm = RMSNorm(features: c.hiddenSize, epsilon: c.normEpsilon)
    }

    public func visit(_ v: inout ParameterVisitor) {
        v.parameter("embed_tokens.weight", embedTokens)
        v.module("layers", layers)
        v.module("norm", norm)
    }
}

public final class LlamaLayers: Module {
    public let blocks: [LlamaBlock]
    init(_ blocks: [LlamaBlock]) { self.blocks = blocks }
    public func visit(_ v: inout ParameterVisitor) { for (i, block) in blocks.enumerated() { v.module(String(i), block) } }
}

/// One pre-norm block: h = x + attention(norm(x)); out = h + mlp(norm(h)).
public final class LlamaBlock: Module {
    public let inputNorm: RMSNorm, postAttentionNorm: RMSNorm
    public let q: Linear, k: Linear, v: Linear, o: Linear
    public let gate: Linear, up: Linear, down: Linear
    let heads: Int, kvHeads: Int, headDimension: Int

    init(_ c: LlamaConfiguration, using rng: inout RandomGenerator) {
        let d = c.hiddenSize, hd = c.headDimension
        inputNorm = RMSNorm(features: d, epsilon: c.normEpsilon)
        postAttentionNorm = RMSNorm(features: d, epsilon: c.normEpsilon)
        q = Linear(d, c.heads * hd, using: &rng)
        k = Linear(d, c.kvHeads * hd, using: &rng)
        v = Linear(d, c.kvHeads * hd, using: &rng)
        o = Linear(c.heads * hd, d, using: &rng)
        gate = Linear(d, c.intermediateSize, using: &rng)
        up = Linear(d, c.intermediateSize, using: &rng)
        down = Linear(c.intermediateSize, d, using: &rng)
        (heads, kvHeads, headDimension) = (c.heads, c.kvHeads, hd)
    }

    public func visit(_ visitor: inout ParameterVisitor) {
        visitor.module("input_layernorm", inputNorm)
        visitor.module("self_attn.q_proj", q)
        visitor.module("self_attn.k_proj", k)
        visitor.module("self_attn.v_proj", v)
        visitor.module("self_attn.o_proj", o)
        visitor.module("post_attention_layernorm", postAttentionNorm)
        visitor.module("mlp.gate_proj", gate)
        visitor.module("mlp.up_proj", up)
        visitor.module("mlp.down_proj", down)
    }

    func callAsFunction(_ x: Tensor, rotary: RotaryEmbedding, mask: Tensor) -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let n = inputNorm(x)
        func split(_ y: Tensor, _ count: Int) -> Tensor { y.reshaped([b, t, count, headDimension]).permuted([0, 2, 1, 3]) }
        let queries = rotary(split(q(n), heads).contiguous())
        // Each KV head serves heads / kvHeads consecutive query heads.
        func repeated(_ y: Tensor) -> Tensor {
            let group = heads / kvHeads
            return y.reshaped([b, kvHeads, 1, t, headDimension]).expanded(to: [b, kvHeads, group, t, headDimension])
                .reshaped([b * heads, t, headDimension])
        }
        let keys = repeated(rotary(split(k(n), kvHeads).contiguous()))
        let values = repeated(split(v(n), kvHeads).contiguous())
        let scores = matmul(queries.reshaped([b * heads, t, headDimension]), keys.transposed(1, 2)) / Float(headDimension).squareRoot() + mask
        let attended = matmul(scores.softmax(), values).reshaped([b, heads, t, headDimension]).permuted([0, 2, 1, 3])
        let h = x + o(attended.reshaped([b, t, heads * headDimension]))
        let m = postAttentionNorm(h)
        return h + down(gate(m).silu() * up(m))
    }
}

extension Linear {
    /// A bias-free layer, as every projection of Llama.
    convenience init(_ inFeatures: Int, _ outFeatures: Int, using rng: inout RandomGenerator) {
        self.init(inFeatures: inFeatures, outFeatures: outFeatures, bias: false, using: &rng)
        weight.value = .normal([outFeatures, inFeatures], standardDeviation: 0.02, using: &rng)
    }
}
