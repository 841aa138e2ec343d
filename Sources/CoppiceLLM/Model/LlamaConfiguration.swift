import Foundation

/// The shape of a Llama 3 / 3.1 / 3.2 model (papers.md §4.1), read from a Hugging Face `config.json`
/// or a Meta `params.json`.
public struct LlamaConfiguration: Codable, Sendable, Equatable {
    /// The "llama3" RoPE scaling of Llama 3.1 and 3.2 (papers.md §4.3).
    public struct RopeScaling: Codable, Sendable, Equatable {
        public var factor: Double
        public var lowFrequencyFactor: Double
        public var highFrequencyFactor: Double
        public var originalMaxPositions: Int

        public init(factor: Double, lowFrequencyFactor: Double = 1, highFrequencyFactor: Double = 4, originalMaxPositions: Int = 8192) {
            self.factor = factor
            self.lowFrequencyFactor = lowFrequencyFactor
            self.highFrequencyFactor = highFrequencyFactor
            self.originalMaxPositions = originalMaxPositions
        }
    }

    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var intermediateSize: Int
    public var normEpsilon: Float = 1e-5
    public var ropeTheta: Double = 500_000
    public var ropeScaling: RopeScaling?
    /// Per-frequency divisors of the rotary frequencies as GGUF files store them (`rope_freqs`);
    /// used instead of `ropeScaling` when set.
    public var ropeFrequencyFactors: [Double]?
    public var tieWordEmbeddings = false
    public var maxPositions = 131_072
    public var headDimension: Int { hiddenSize / heads }

    /// The weights a model of this shape holds (the embedding once when tied), in floating point so
    /// that a file's impossible sizes cannot overflow it. Loaders compare it with the weights a file
    /// stores before allocating a model from a header's numbers.
    public var parameterCount: Double {
        let h = Double(hiddenSize), attention = Double(headDimension) * Double(heads + kvHeads) * 2 * h
        let block = attention + 3 * h * Double(intermediateSize) + 2 * h
        return Double(vocabularySize) * h * (tieWordEmbeddings ? 1 : 2) + Double(layers) * block + h
    }

    /// Throws unless `stored` weights (what a file holds) cover this shape: a header that declares a
    /// larger model than its data would otherwise allocate (and initialize) that model first.
    public func checkCovered(byStored stored: Double, in source: String) throws(LlamaError) {
        guard parameterCount <= stored else {
            throw .weights(
                "\(source): its configuration (hidden \(hiddenSize), \(layers) layers, FFN \(intermediateSize), vocabulary \(vocabularySize)) needs \(Int(min(parameterCount, 9e18))) weights, its tensors hold \(Int(stored))"
            )
        }
    }

    public init(vocabularySize: Int, hiddenSize: Int, layers: Int, heads: Int, kvHeads: Int, intermediateSize: Int) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.intermediateSize = intermediateSize
    }

    /// The reference's FFN width with its integer truncations (8B: 4096 → 10922 → 14198 → 14336).
    public static func feedForwardSize(dimension: Int, multiplier: Double?, multipleOf: Int) -> Int {
        var h = Int(2 * Double(4 * dimension) / 3)
        if let multiplier { h = Int(multiplier * Double(h)) }
        return multipleOf * ((h + multipleOf - 1) / multipleOf)
    }

    public func validate() throws(LlamaError) {
        guard vocabularySize > 0, hiddenSize > 0, layers > 0, heads > 0, kvHeads > 0, intermediateSize > 0 else {
            throw .invalidConfiguration(
                "sizes must be positive: vocab \(vocabularySize), hidden \(hiddenSize), layers \(layers), heads \(heads), kv heads \(kvHeads), FFN \(intermediateSize)"
            )
        }
        guard hiddenSize % heads == 0, heads % kvHeads == 0, headDimension % 2 == 0 else {
            throw .invalidConfiguration(
                "hidden size \(hiddenSize) must split into \(heads) heads of even width, and the heads into \(kvHeads) KV groups")
        }
    }

    /// A Hugging Face `config.json` (`LlamaForCausalLM`).
    public static func huggingFace(_ data: Data) throws(LlamaError) -> LlamaConfiguration {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .invalidConfiguration("config.json is not a JSON object")
        }
        func int(_ key: String) throws(LlamaError) -> Int {
            guard let v = json[key] as? Int else { throw .invalidConfiguration("config.json: \(key) missing or not an integer") }
            return v
        }
        let heads = try int("num_attention_heads")
        var c = LlamaConfiguration(
            vocabularySize: try int("vocab_size"), hiddenSize: try int("hidden_size"), layers: try int("num_hidden_layers"),
            heads: heads, kvHeads: (json["num_key_value_heads"] as? Int) ?? heads, intermediateSize: try int("intermediate_size"))
        if let eps = json["rms_norm_eps"] as? Double { c.normEpsilon = Float(eps) }
        if let theta = json["rope_theta"] as? Double { c.ropeTheta = theta }
        if let tie = json["tie_word_embeddings"] as? Bool { c.tieWordEmbeddings = tie }
        if let max = json["max_position_embeddings"] as? Int { c.maxPositions = max }
        if let headDim = json["head_dim"] as? Int, headDim != c.headDimension {
            throw .invalidConfiguration(
                "config.json: head_dim \(headDim) differs from hidden_size / num_attention_heads = \(c.headDimension) (not supported)")
        }
        if let scaling = json["rope_scaling"] as? [String: Any] {
            let type = (scaling["rope_type"] ?? scaling["type"]) as? String
            guard type == "llama3", let factor = scaling["factor"] as? Double else {
                throw .invalidConfiguration("config.json: rope_scaling of type \(type ?? "none") is not supported (llama3 is)")
            }
            c.ropeScaling = RopeScaling(
                factor: factor, lowFrequencyFactor: scaling["low_freq_factor"] as? Double ?? 1,
                highFrequencyFactor: scaling["high_freq_factor"] as? Double ?? 4,
                originalMaxPositions: scaling["original_max_position_embeddings"] as? Int ?? 8192)
        }
        try c.validate()
        return c
    }

    /// A Meta `params.json` (dim, n_layers, n_heads, n_kv_heads, vocab_size, multiple_of,
    /// ffn_dim_multiplier, norm_eps, rope_theta, use_scaled_rope). Meta's code hard-codes the scale
    /// factor 8; `tieWordEmbeddings` follows the 3.2 rule (tied for 1B/3B) only if told.
    public static func meta(_ data: Data, tieWordEmbeddings: Bool = false) throws(LlamaError) -> LlamaConfiguration {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .invalidConfiguration("params.json is not a JSON object")
        }
        guard let dim = json["dim"] as? Int, let layers = json["n_layers"] as? Int, let heads = json["n_heads"] as? Int else {
            throw .invalidConfiguration("params.json needs dim, n_layers and n_heads")
        }
        let ffn = feedForwardSize(dimension: dim, multiplier: json["ffn_dim_multiplier"] as? Double, multipleOf: json["multiple_of"] as? Int ?? 256)
        var c = LlamaConfiguration(
            vocabularySize: json["vocab_size"] as? Int ?? 128_256, hiddenSize: dim, layers: layers, heads: heads,
            kvHeads: json["n_kv_heads"] as? Int ?? heads, intermediateSize: ffn)
        if let eps = json["norm_eps"] as? Double { c.normEpsilon = Float(eps) }
        if let theta = json["rope_theta"] as? Double { c.ropeTheta = theta }
        if json["use_scaled_rope"] as? Bool == true { c.ropeScaling = RopeScaling(factor: 8) }
        c.tieWordEmbeddings = tieWordEmbeddings
        try c.validate()
        return c
    }

    /// The rotary inverse frequencies 1/θ^(2i/d), with the llama3 scaling when configured.
    public var inverseFrequencies: [Double] {
        let d = headDimension
        let base = (0..<(d / 2)).map { 1 / pow(ropeTheta, Double(2 * $0) / Double(d)) }
        if let factors = ropeFrequencyFactors { return zip(base, factors).map { $0 / $1 } }
        guard let s = ropeScaling else { return base }
        let lowWavelength = Double(s.originalMaxPositions) / s.lowFrequencyFactor
        let highWavelength = Double(s.originalMaxPositions) / s.highFrequencyFactor
        return base.map { f in
            let wavelength = 2 * Double.pi / f
            if wavelength < highWavelength { return f }
            if wavelength > lowWavelength { return f / s.factor }
            let smooth = (Double(s.originalMaxPositions) / wavelength - s.lowFrequencyFactor) / (s.highFrequencyFactor - s.lowFrequencyFactor)
            return (1 - smooth) * f / s.factor + smooth * f
        }
    }
}
