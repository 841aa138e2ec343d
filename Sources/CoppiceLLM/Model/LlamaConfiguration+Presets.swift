extension LlamaConfiguration {
    /// Real shapes for speed comparisons (`coppice bench llm-model`).
    public enum Preset: String, CaseIterable, Sendable {
        /// dim 512, 8 layers, 8 heads, 2 KV heads, FFN 1536, vocabulary 32,000.
        case llama57M = "llama-57m"
        /// Llama 3.2 1B: dim 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192, Llama 3 vocabulary, tied embeddings.
        case llama32_1B = "llama-3.2-1b"

        public var configuration: LlamaConfiguration {
            var c: LlamaConfiguration
            switch self {
            case .llama57M:
                c = LlamaConfiguration(vocabularySize: 32_000, hiddenSize: 512, layers: 8, heads: 8, kvHeads: 2, intermediateSize: 1536)
                c.ropeTheta = 10_000
            case .llama32_1B:
                c = LlamaConfiguration(vocabularySize: 128_256, hiddenSize: 2048, layers: 16, heads: 32, kvHeads: 8, intermediateSize: 8192)
                c.ropeScaling = .init(factor: 32)
                c.tieWordEmbeddings = true
            }
            c.maxPositions = 2048
            return c
        }
    }
}
