import CoppiceFormats
import CoppiceLLM
import CoppiceNN
import CoppiceTensor
import Foundation
import Testing

@Suite struct LlamaTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func fixture(_ name: String) throws -> (Llama, tokens: [[Int]], logits: Tensor) {
        let config = try LlamaConfiguration.huggingFace(try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/llama_\(name)_config.json")))
        var rng = RandomGenerator(seed: 0)
        let model = try Llama(config, maxSequence: 64, using: &rng)
        try model.load(stateDict: try SafetensorsFile(path: "\(fixtures)/llama_\(name).safetensors").tensors())
        let reference = try SafetensorsFile(path: "\(fixtures)/llama_\(name)_logits.safetensors")
        let t = try reference.tensor("tokens")
        let tokens = (0..<t.shape[0]).map { r in (0..<t.shape[1]).map { Int(t.scalars[r * t.shape[1] + $0]) } }
        return (model, tokens, try reference.tensor("logits"))
    }

    /// Grouped-query attention, llama3-scaled rotary embeddings (all three bands), tied and untied
    /// output embeddings: logits equal transformers' LlamaForCausalLM to 1e-4 relative.
    @Test(arguments: ["tied", "untied"])
    func logitsMatchTransformers(name: String) throws {
        let (model, tokens, expected) = try Self.fixture(name)
        #expect(model.configuration.tieWordEmbeddings == (name == "tied") && model.configuration.kvHeads == 2)
        let logits = try withoutGradient { try model(tokens) }
        #expect(logits.shape == expected.shape)
        let scale = expected.scalars.map(abs).max()!
        let error = zip(logits.scalars, expected.scalars).map { abs($0 - $1) }.max()!
        #expect(error / scale < 1e-4, "max error \(error) against logits up to \(scale)")
    }

    @Test func configurationRulesFromThePapersNotes() throws {
        #expect(LlamaConfiguration.feedForwardSize(dimension: 4096, multiplier: 1.3, multipleOf: 1024) == 14336)
        #expect(LlamaConfiguration.feedForwardSize(dimension: 2048, multiplier: 1.5, multipleOf: 256) == 8192)
        var c = LlamaConfiguration(vocabularySize: 128_256, hiddenSize: 4096, layers: 32, heads: 32, kvHeads: 8, intermediateSize: 14336)
        c.ropeScaling = .init(factor: 8)
        let f = c.inverseFrequencies
        #expect(abs(f[1] - 0.8146172339) < 1e-9 && abs(f[20] - 1.656044008e-2) < 1e-11)
        #expect(abs(f[40] - 3.428102196e-5) < 1e-13 && abs(f[63] - 3.068925989e-7) < 1e-15)
        let meta = try LlamaConfiguration.meta(
            Data(
                #"{"dim": 2048, "n_layers": 16, "n_heads": 32, "n_kv_heads": 8, "vocab_size": 128256, "ffn_dim_multiplier": 1.5, "multiple_of": 256, "norm_eps": 1e-05, "rope_theta": 500000.0, "use_scaled_rope": true}"#
                    .utf8), tieWordEmbeddings: true)
        #expect(meta.intermediateSize == 8192 && meta.headDimension == 64 && meta.ropeScaling?.factor == 8)
        #expect(throws: LlamaError.self) { try LlamaConfiguration.huggingFace(Data(#"{"vocab_size": 10}"#.utf8)) }
        #expect(throws: LlamaError.self) {
            try LlamaConfiguration.huggingFace(
                Data(#"{"vocab_size": 10, "hidden_size": 30, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8}"#.utf8))
        }
    }

    @Test func badTokensAreNamed() throws {
        let (model, _, _) = try Self.fixture("tied")
        #expect(throws: LlamaError.self) { try model([[1, 96]]) }
        #expect(throws: LlamaError.self) { try model([[1, 2], [3]]) }
    }
}

@Suite struct LlamaRuntimeTests {
    /// The cached runtime gives the autograd model's logits (hence transformers'), whether the
    /// tokens come as one prefill, in uneven prefill batches, or one at a time.
    @Test func cachedInferenceMatchesTheModel() throws {
        let (model, tokens, expected) = try LlamaTests.fixture("untied")
        let vocabulary = model.configuration.vocabularySize, t = tokens[0].count
        let reference = Array(expected.scalars[0..<(t * vocabulary)])
        let scale = reference.map(abs).max()!
        func close(_ a: [Float], _ b: ArraySlice<Float>) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) / scale < 1e-4 } }
        let whole = LlamaRuntime(model: model, maxSequence: 32, maxBatch: 16)
        #expect(close(try whole.forward(tokens[0], allLogits: true), reference[...]))
        let batched = LlamaRuntime(model: model, maxSequence: 32, maxBatch: 4)
        #expect(close(try batched.forward(tokens[0], allLogits: true), reference[...]), "prefill in batches of 4 over the cache")
        let stepwise = LlamaRuntime(model: model, maxSequence: 32, maxBatch: 4)
        for (i, token) in tokens[0].enumerated() {
            let logits = try stepwise.forward([token])
            #expect(close(logits, reference[(i * vocabulary)..<((i + 1) * vocabulary)]), "decode step \(i)")
        }
        #expect(stepwise.length == t)
        #expect(throws: LlamaError.self) { try stepwise.forward(Array(repeating: 1, count: 32)) }
        stepwise.reset()
        #expect(close(try stepwise.forward(tokens[0]), reference[((t - 1) * vocabulary)...]), "after reset, the last token's logits")
    }
}

@Suite struct GenerationTests {
    @Test func savedCheckpointsLoadWithTheSameLogits() throws {
        let (model, tokens, expected) = try LlamaTests.fixture("tied")
        let directory = NSTemporaryDirectory() + "llama-\(UUID().uuidString)"
        try LlamaCheckpoint.save(model, to: directory)
        let loaded = try LlamaCheckpoint.load(directory: directory, maxSequence: 64)
        #expect(try withoutGradient { try loaded(tokens) }.scalars == (try withoutGradient { try model(tokens) }.scalars))
        #expect(loaded.configuration == model.configuration && expected.count > 0)
        #expect(throws: LlamaError.self) { try LlamaCheckpoint.load(directory: "/nonexistent") }
        try Data("{}".utf8).write(to: URL(fileURLWithPath: directory + "/model.safetensors.index.json"))
        #expect(throws: LlamaError.self, "an index without a weight_map") { try LlamaCheckpoint.load(directory: directory) }
    }

    /// Perplexity is exp of the mean cross-entropy of each next token, the same as the model's loss.
    @Test func perplexityIsTheExponentOfTheModelsLoss() throws {
        let (model, tokens, _) = try LlamaTests.fixture("untied")
        let row = tokens[0]
        let logits = try withoutGradient { try model([Array(row.dropLast())]) }.reshaped([row.count - 1, model.configuration.vocabularySize])
        let loss = try Loss.crossEntropy(logits, labels: Array(row.dropFirst())).scalars[0]
        let (ppl, count) = try LlamaRuntime(model: model, maxSequence: 32).perplexity(row, context: 32)
        #expect(count == row.count - 1 && abs(log(ppl) - Double(loss)) < 1e-4)
    }

    @Test func samplingFollowsItsOptions() {
        let logits: [Float] = [0.1, 2.0, 1.9, -1, 0.5]
        var greedy = Sampler(seed: 1)
        greedy.temperature = 0
        #expect(greedy.next(logits, history: []) == 1)
        var penalized = greedy
        penalized.repetitionPenalty = 1.2
        #expect(penalized.next(logits, history: [1]) == 2, "2.0 / 1.2 falls below 1.9")
        var topK = Sampler(seed: 3)
        topK.temperature = 1
        topK.topK = 2
        topK.topP = 1
        let drawn = (0..<200).map { _ in topK.next(logits, history: []) }
        #expect(Set(drawn) == [1, 2], "top-k 2 keeps tokens 1 and 2, both drawn")
        var nucleus = Sampler(seed: 3)
        nucleus.topP = 0.01
        #expect((0..<20).allSatisfy { _ in nucleus.next(logits, history: []) == 1 })
        var minP = Sampler(seed: 4)
        (minP.temperature, minP.topP, minP.minP) = (1, 1, 0.5)
        #expect(Set((0..<200).map { _ in minP.next(logits, history: []) }) == [1, 2], "min-p 0.5 drops tokens below half the top probability")
        var a = Sampler(seed: 9), b = Sampler(seed: 9)
        (a.temperature, b.temperature) = (1, 1)
        #expect((0..<50).map { _ in a.next(logits, history: []) } == (0..<50).map { _ in b.next(logits, history: []) }, "a seed reproduces")
    }

    @Test func generationStopsAtAStopToken() throws {
        let (model, tokens, _) = try LlamaTests.fixture("tied")
        let runtime = LlamaRuntime(model: model, maxSequence: 64, maxBatch: 8)
        var sampler = Sampler()
        sampler.temperature = 0
        var streamed: [Int] = []
        let free = try runtime.generate(prompt: tokens[0], maxTokens: 10, sampler: &sampler, stop: []) { streamed.append($0) }
        #expect(free.count == 10 && streamed == free && runtime.length == tokens[0].count + 9)
        runtime.reset()
        let stopped = try runtime.generate(prompt: tokens[0], maxTokens: 10, sampler: &sampler, stop: [free[2]])
        #expect(stopped == Array(free.prefix(3)), "greedy decoding repeats itself and stops after the stop token")
    }
}
