import CoppiceData
import CoppiceFormats
import CoppiceLLM
import CoppiceRec
import CoppiceSparsity
import CoppiceTensor
import CoppiceVision
import Foundation

/// Valid inputs for each target, written by Coppice's own writers (or in the format's text), so that
/// fuzzing starts from files that reach deep into each reader and the suite checks they are accepted.
extension FuzzTarget {
    public func seeds() throws -> [Data] {
        let directory = NSTemporaryDirectory() + "coppice-fuzz-seeds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func written(_ write: (String) throws -> Void) throws -> Data {
            let path = directory + "/\(UUID().uuidString)"
            try write(path)
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let matrix = Tensor((0..<64).map { Float($0) / 8 - 3 }).reshaped([2, 32])
        let dense: [String] = ["5", "", "-1"] + (4..<14).map { String($0) }
        let categorical: [String] = (0..<26).map { (i: Int) -> String in i % 5 == 0 ? "" : String(format: "%08x", i * 7919) }
        let criteoRow: [String] = ["1"] + dense + categorical
        switch name {
        case "safetensors":
            let sparse = Tensor(matrix.scalars.enumerated().map { $0.offset % 3 == 0 ? $0.element : 0 }).reshaped([2, 32])
            return try SafetensorsDType.allCases.filter { $0 != .i32 }.map { dtype in
                try written { try Safetensors.write(["w": matrix, "b": Tensor([1, 2, 3])], metadata: ["k": "v"], dtype: dtype, to: $0) }
            } + [try written { try SparseStorage.write(["w": sparse, "b": Tensor([1, 2, 3])], to: $0) }]
        case "gguf":
            var rng = RandomGenerator(seed: 1)
            let tiny = try Llama(
                LlamaConfiguration(vocabularySize: 32, hiddenSize: 32, layers: 1, heads: 2, kvHeads: 1, intermediateSize: 32), maxSequence: 8,
                using: &rng)
            return try GGUFTensorType.written.map { type in
                try written { path in
                    try GGUFWriter.write(
                        metadata: [("k", .string("v")), ("n", .array([.uint32(1), .uint32(2)]))], tensors: [("t", matrix, type)], to: path)
                }
            } + [
                try written { try LlamaGGUF.write(tiny, tokenizer: nil, type: .f32, to: $0) },
                // A byte-level vocabulary as SmolLM2's GGUF carries one.
                try written { path in
                    let tokens = ["a", "b", "ab", "Ġ", "1", "<|im_start|>", "<|im_end|>"].map { GGUFValue.string($0) }
                    try GGUFWriter.write(
                        metadata: [
                            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("smollm")),
                            ("tokenizer.ggml.tokens", .array(tokens)),
                            ("tokenizer.ggml.token_type", .array([1, 1, 1, 1, 1, 3, 3].map { GGUFValue.int32($0) })),
                            ("tokenizer.ggml.merges", .array([.string("a b")])), ("tokenizer.ggml.eos_token_id", .uint32(6)),
                            ("tokenizer.chat_template", .string("{{ '<|im_start|>' + message['role'] }}")),
                        ], tensors: [("t", matrix, .q4_1)], to: path)
                },
            ]
        case "idx":
            return [IDX.encode(dimensions: [2, 2, 3], values: Array(1...12)), IDX.encode(dimensions: [3], values: [0, 1, 9])]
        case "criteo-text":
            let line = criteoRow.joined(separator: "\t")
            return [Data((line + "\n" + line + "\r\n").utf8), Data(("label,...\n" + criteoRow.joined(separator: ",")).utf8)]
        case "criteo-cache":
            let row = try CriteoReader(tableSize: 1000).parse(criteoRow.joined(separator: "\t"), separator: "\t", line: 1)
            return [try written { try CriteoCache.write([row, row], to: $0) }]
        case "recipes":
            let pruning = PruningRecipe(
                method: PruningMethod(granularity: .nOfM(n: 2, m: 4)), schedule: .gradual(initial: 0, final: 0.8, start: 0, end: 100, frequency: 10))
            return [
                try pruning.encoded(), try JSONEncoder().encode(SpatialWinogradRecipe.fashionMNIST),
                Data(#"{"phases": [0, 0.5, 0], "phase_lengths": [0.3, 0.4, 0.3], "regrowth": "restore"}"#.utf8),
            ]
        case "llama-config":
            return [
                Data(
                    #"{"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":128,"vocab_size":256,"rms_norm_eps":1e-5,"rope_theta":500000,"tie_word_embeddings":true,"rope_scaling":{"rope_type":"llama3","factor":32,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":8192}}"#
                        .utf8),
                Data(
                    #"{"dim":64,"n_layers":2,"n_heads":4,"n_kv_heads":2,"vocab_size":256,"multiple_of":32,"ffn_dim_multiplier":1.3,"norm_eps":1e-5,"rope_theta":500000,"use_scaled_rope":true}"#
                        .utf8),
            ]
        case "tokenizer-json":
            return [
                Data(
                    #"{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":["a b"]},"added_tokens":[{"id":4,"content":"<s>","special":true}],"pre_tokenizer":{"type":"ByteLevel"}}"#
                        .utf8)
            ]
        case "tokenizer-model":
            let bytes = (0...255).map { Data([UInt8($0)]).base64EncodedString() + " \($0)" }
            return [Data((bytes + ["aGk= 256", "IHdv 257"]).joined(separator: "\n").utf8)]
        case "chat":
            return [
                Data(#"<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>"#.utf8),
                Data("[brave_search.call(query=\"x\")]".utf8), Data("safe".utf8), Data("unsafe\nS1,S10".utf8),
            ]
        default:
            return []
        }
    }
}
