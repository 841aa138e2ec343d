import CoppiceFormats
import CoppiceNN
import CoppiceSparsity
import CoppiceTensor
import Foundation

/// A Hugging Face model directory: `config.json` and `model.safetensors`, or shards listed in
/// `model.safetensors.index.json` (its `weight_map`). Tensors may be F32, F16 or BF16 (read as F32),
/// or stored sparse as Coppice writes them (`SparseStorage`, read back dense). `save` writes the same
/// layout, so Hugging Face tools load what Coppice trains.
public enum LlamaCheckpoint {
    public static func load(directory: String, maxSequence: Int = 2048) throws(LlamaError) -> Llama {
        guard let configData = FileManager.default.contents(atPath: directory + "/config.json") else {
            throw .weights("\(directory)/config.json not found (a Hugging Face model directory has config.json and model.safetensors)")
        }
        let configuration = try LlamaConfiguration.huggingFace(configData)
        var weights: [String: Tensor] = [:]
        do {
            for file in try shardFiles(directory) {
                for (name, tensor) in try SparseStorage.read(directory + "/" + file) { weights[name] = tensor }
            }
        } catch let error as LlamaError {
            throw error
        } catch {
            throw .weights("\(error)")
        }
        try configuration.checkCovered(byStored: weights.values.reduce(0) { $0 + Double($1.count) }, in: directory)
        var rng = RandomGenerator(seed: 0)
        let model = try Llama(configuration, maxSequence: maxSequence, using: &rng)
        // Tied models may still carry lm_head.weight (a copy of the embedding); it is not a parameter here.
        if configuration.tieWordEmbeddings { weights["lm_head.weight"] = nil }
        do { try model.load(stateDict: weights) } catch { throw .weights("\(directory): \(error)") }
        return model
    }

    static func shardFiles(_ directory: String) throws -> [String] {
        let index = directory + "/model.safetensors.index.json"
        guard let data = FileManager.default.contents(atPath: index) else { return ["model.safetensors"] }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let map = json["weight_map"] as? [String: String] else {
            throw LlamaError.weights("\(index) has no weight_map")
        }
        return Array(Set(map.values)).sorted()
    }

    /// Writes `config.json` (LlamaForCausalLM) and `model.safetensors` into `directory`, atomically each.
    public static func save(_ model: Llama, to directory: String) throws(LlamaError) {
        do {
            try writeConfiguration(model.configuration, bos: 128000, eos: [128001, 128008, 128009], to: directory)
            try Safetensors.write(model.stateDict(), metadata: ["format": "pt"], to: directory + "/model.safetensors")
        } catch {
            throw .weights("cannot write \(directory): \(error)")
        }
    }

    /// `config.json` for `c` (LlamaForCausalLM) in `directory`, which is created if missing; `bos`/`eos`
    /// are the vocabulary's begin- and end-of-text ids.
    static func writeConfiguration(_ c: LlamaConfiguration, bos: Int?, eos: [Int], to directory: String) throws {
        var config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": c.vocabularySize, "hidden_size": c.hiddenSize,
            "intermediate_size": c.intermediateSize, "num_hidden_layers": c.layers, "num_attention_heads": c.heads,
            "num_key_value_heads": c.kvHeads, "rms_norm_eps": Double(c.normEpsilon), "rope_theta": c.ropeTheta,
            "tie_word_embeddings": c.tieWordEmbeddings, "max_position_embeddings": c.maxPositions, "hidden_act": "silu",
            "attention_bias": false, "mlp_bias": false, "torch_dtype": "float32", "eos_token_id": eos.count == 1 ? eos[0] : eos,
        ]
        if let bos { config["bos_token_id"] = bos }
        if let s = c.ropeScaling {
            config["rope_scaling"] = [
                "rope_type": "llama3", "factor": s.factor, "low_freq_factor": s.lowFrequencyFactor,
                "high_freq_factor": s.highFrequencyFactor, "original_max_position_embeddings": s.originalMaxPositions,
            ]
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(
            try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]), to: directory + "/config.json")
    }
}
