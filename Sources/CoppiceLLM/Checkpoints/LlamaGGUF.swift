import CoppiceFormats
import CoppiceKernels
import CoppiceNN
import CoppiceTensor
import Foundation

/// Llama models as GGUF files in llama.cpp's layout: its tensor names (`token_embd`,
/// `blk.N.attn_q`, …, `output_norm`, `output`), q/k rows permuted to the interleaved rotary pairs
/// llama.cpp uses (as its convert_hf_to_gguf.py does), the llama3 scaling as the `rope_freqs`
/// factors, `llama.*` hyperparameters and, with a tokenizer, its `gpt2`-style vocabulary and merges.
public enum LlamaGGUF {
    static func names(_ layer: Int) -> [(hf: String, gguf: String)] {
        let hf = "model.layers.\(layer).", g = "blk.\(layer)."
        return [
            ("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
            ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"), ("post_attention_layernorm", "ffn_norm"),
            ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down"),
        ]
        .map { (hf + $0.0 + ".weight", g + $0.1 + ".weight") }
    }

    /// HF's rotate-half rows of each head → interleaved pairs (`inverse`: back).
    static func permute(_ w: Tensor, heads: Int, inverse: Bool = false) -> Tensor {
        let rows = w.shape[0], columns = w.shape[1], half = rows / heads / 2
        let split = w.reshaped(inverse ? [heads, half, 2, columns] : [heads, 2, half, columns])
        return split.permuted([0, 2, 1, 3]).contiguous().reshaped([rows, columns])
    }

    /// With a tokenizer, its vocabulary goes in too (cut to the model's vocabulary size: the lowest
    /// BPE ranks, then the special tokens), so llama.cpp can load the file.
    public static func write(_ model: Llama, tokenizer: Llama3Tokenizer?, type: GGUFTensorType, to path: String) throws(LlamaError) {
        let c = model.configuration
        let state = model.stateDict()
        var metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")), ("general.name", .string("coppice-llama")),
            ("general.file_type", .uint32(fileType(type))),
            ("llama.vocab_size", .uint32(UInt32(c.vocabularySize))), ("llama.context_length", .uint32(UInt32(c.maxPositions))),
            ("llama.embedding_length", .uint32(UInt32(c.hiddenSize))), ("llama.block_count", .uint32(UInt32(c.layers))),
            ("llama.feed_forward_length", .uint32(UInt32(c.intermediateSize))), ("llama.attention.head_count", .uint32(UInt32(c.heads))),
            ("llama.attention.head_count_kv", .uint32(UInt32(c.kvHeads))), ("llama.rope.freq_base", .float32(Float(c.ropeTheta))),
            ("llama.rope.dimension_count", .uint32(UInt32(c.headDimension))),
            ("llama.attention.layer_norm_rms_epsilon", .float32(c.normEpsilon)),
        ]
        if let tokenizer { metadata += vocabulary(tokenizer, size: c.vocabularySize) }
        var tensors: [(name: String, tensor: Tensor, type: GGUFTensorType)] = []
        // Vectors stay F32, as llama.cpp keeps them.
        func add(_ name: String, _ t: Tensor) { tensors.append((name, t, t.rank == 1 ? .f32 : type)) }
        add("token_embd.weight", state["model.embed_tokens.weight"]!)
        if let factors = frequencyFactors(c) { tensors.append(("rope_freqs.weight", Tensor(factors.map(Float.init)), .f32)) }
        for layer in 0..<c.layers {
            for (hf, gguf) in names(layer) {
                var t = state[hf]!
                if hf.hasSuffix("q_proj.weight") { t = permute(t, heads: c.heads) }
                if hf.hasSuffix("k_proj.weight") { t = permute(t, heads: c.kvHeads) }
                add(gguf, t)
            }
        }
        add("output_norm.weight", state["model.norm.weight"]!)
        if let head = state["lm_head.weight"] { add("output.weight", head) }
        do { try GGUFWriter.write(metadata: metadata, tensors: tensors, to: path) } catch { throw .weights("\(error)") }
    }

    /// llama.cpp's `llama_ftype` of a file whose matrices are all `type` (ALL_F32, MOSTLY_F16, …).
    static func fileType(_ type: GGUFTensorType) -> UInt32 {
        switch type {
        case .f32: 0;
        case .f16: 1;
        case .q4_0: 2;
        case .q8_0: 7;
        case .bf16: 32
        case .q4_1: 3;
        case .q5_0: 8;
        case .q5_1: 9;
        case .q4_K: 15;
        case .q5_K: 17;
        case .q6_K: 18
        }
    }

    /// The hyperparameters of a llama.cpp-layout GGUF file.
    static func configuration(_ file: GGUFFile) throws -> LlamaConfiguration {
        let m = file.metadata, path = file.path
        guard m["general.architecture"]?.string == "llama" else {
            throw LlamaError.weights("\(path): architecture \(m["general.architecture"]?.string ?? "none"), expected llama")
        }
        func int(_ key: String) throws -> Int {
            guard let v = m["llama." + key]?.integer else { throw LlamaError.weights("\(path): llama.\(key) missing") }
            return v
        }
        guard let embedding = file.tensors["token_embd.weight"], embedding.shape.count == 2 else {
            throw LlamaError.weights("\(path): no token_embd.weight matrix")
        }
        var c = LlamaConfiguration(
            vocabularySize: embedding.shape[0], hiddenSize: try int("embedding_length"), layers: try int("block_count"),
            heads: try int("attention.head_count"), kvHeads: try int("attention.head_count_kv"),
            intermediateSize: try int("feed_forward_length"))
        c.ropeTheta = m["llama.rope.freq_base"]?.number ?? 10_000
        c.normEpsilon = Float(m["llama.attention.layer_norm_rms_epsilon"]?.number ?? 1e-5)
        c.maxPositions = m["llama.context_length"]?.integer ?? 2048
        c.tieWordEmbeddings = file.tensors["output.weight"] == nil
        if file.tensors["rope_freqs.weight"] != nil { c.ropeFrequencyFactors = try file.tensor("rope_freqs.weight").scalars.map(Double.init) }
        try c.validate()
        try checkTensors(file, c)
        return c
    }

    /// Every tensor the configuration needs is in the file with the shape it implies, before a model
    /// (or a runtime) is built from the header's numbers: a file that declares a larger model than it
    /// stores, or rows that do not split into its heads, is refused by name here.
    static func checkTensors(_ file: GGUFFile, _ c: LlamaConfiguration) throws {
        // Nine tensors a block: a block count the file cannot hold is refused before it is counted out.
        guard c.layers <= file.tensors.count / 9 else {
            throw LlamaError.weights("\(file.path): llama.block_count \(c.layers) needs \(c.layers) × 9 tensors, the file has \(file.tensors.count)")
        }
        let (h, q, kv, ffn) = (c.hiddenSize, c.heads * c.headDimension, c.kvHeads * c.headDimension, c.intermediateSize)
        func check(_ name: String, _ shape: [Int]) throws {
            guard let info = file.tensors[name] else { throw LlamaError.weights("\(file.path): tensor \(name) is missing") }
            guard info.shape == shape else {
                throw LlamaError.weights("\(file.path): tensor \(name) has shape \(info.shape), the configuration needs \(shape)")
            }
        }
        try check("token_embd.weight", [c.vocabularySize, h])
        try check("output_norm.weight", [h])
        if !c.tieWordEmbeddings { try check("output.weight", [c.vocabularySize, h]) }
        if file.tensors["rope_freqs.weight"] != nil { try check("rope_freqs.weight", [c.headDimension / 2]) }
        let shapes = [[h], [q, h], [kv, h], [kv, h], [h, q], [h], [ffn, h], [ffn, h], [h, ffn]]
        for layer in 0..<c.layers {
            for (name, shape) in zip(names(layer).map(\.gguf), shapes) { try check(name, shape) }
        }
    }

    /// A model from a llama.cpp-layout GGUF (any of F32, F16, Q8_0, Q4_0; weights dequantized).
    public static func load(path: String, maxSequence: Int = 2048) throws(LlamaError) -> Llama {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .weights("\(error)") }
        do {
            let c = try configuration(file)
            let embedding = try file.tensor("token_embd.weight")
            var rng = RandomGenerator(seed: 0)
            let model = try Llama(c, maxSequence: maxSequence, using: &rng)
            var state: [String: Tensor] = ["model.embed_tokens.weight": embedding, "model.norm.weight": try file.tensor("output_norm.weight")]
            if !c.tieWordEmbeddings { state["lm_head.weight"] = try file.tensor("output.weight") }
            for layer in 0..<c.layers {
                for (hf, gguf) in names(layer) {
                    var t = try file.tensor(gguf)
                    if hf.hasSuffix("q_proj.weight") { t = permute(t, heads: c.heads, inverse: true) }
                    if hf.hasSuffix("k_proj.weight") { t = permute(t, heads: c.kvHeads, inverse: true) }
                    state[hf] = t
                }
            }
            try model.load(stateDict: state)
            return model
        } catch let error as LlamaError {
            throw error
        } catch {
            throw .weights("\(path): \(error)")
        }
    }

    /// A runtime on the GGUF file's weights as stored (F32, F16, BF16, Q8_0, Q4_0 or Q4_1: nothing
    /// widened but the norms; Q5_0, Q5_1 and the K-quants dequantized to F32), the q/k rows put back into the
    /// rotate-half order; the other matrices used in place from the file's memory map where this CPU's
    /// kernels take them as stored (`mapped`; false copies them, as llama.cpp's `--no-mmap`), so
    /// start-up reads no weights.
    public static func runtime(
        path: String, maxSequence: Int = 2048, maxBatch: Int = 512, pool: ThreadPool = .shared, mapped: Bool = true
    ) throws(LlamaError) -> LlamaRuntime {
        do {
            let file = try GGUFFile(path: path)
            let c = try configuration(file)
            func matrix(_ name: String, heads: Int? = nil) throws -> WeightMatrix {
                let info = file.tensors[name]!
                let (rows, columns) = (info.shape[0], info.shape.count > 1 ? info.shape[1] : 1)
                guard let format = WeightMatrix.Format(rawValue: info.type.name) else {
                    // No kernels for Q5_0, Q5_1 and the K-quants yet: their exact values, as F32.
                    let values = try file.tensor(name).scalars.withUnsafeBytes { Array($0) }
                    return WeightMatrix(storage: values, rows: rows, columns: columns, format: .f32)
                }
                guard let heads else {
                    // In place in the file's mapping (copied only where the kernels interleave rows), or copied.
                    let (bytes, owner) = try file.mapped(name)
                    let region = WeightBytes(region: bytes, owner: owner)
                    guard !mapped else { return WeightMatrix(storage: region, rows: rows, columns: columns, format: format) }
                    let copy = try WeightBytes(copying: bytes)
                    region.dropMappedPages()
                    return WeightMatrix(storage: copy, rows: rows, columns: columns, format: format)
                }
                // Interleaved rows (h, i, a) back to rotate-half rows (h, a, i), in a copy.
                let (region, owner) = try file.mapped(name)
                let rowBytes = region.count / rows, half = rows / heads / 2
                let bytes = try WeightBytes(count: region.count) { out in
                    for h in 0..<heads {
                        for a in 0..<2 {
                            for i in 0..<half {
                                let to = (h * 2 * half + a * half + i) * rowBytes, from = (h * 2 * half + i * 2 + a) * rowBytes
                                (out.baseAddress! + to).copyMemory(from: region.baseAddress! + from, byteCount: rowBytes)
                            }
                        }
                    }
                }
                WeightBytes(region: region, owner: owner).dropMappedPages()
                return WeightMatrix(storage: bytes, rows: rows, columns: columns, format: format)
            }
            func vector(_ name: String) throws -> [Float] { try file.tensor(name).scalars }
            let layers = try (0..<c.layers).map { l -> LlamaRuntime.Layer in
                let g = "blk.\(l)."
                return LlamaRuntime.Layer(
                    attentionNorm: try vector(g + "attn_norm.weight"), ffnNorm: try vector(g + "ffn_norm.weight"),
                    q: try matrix(g + "attn_q.weight", heads: c.heads), k: try matrix(g + "attn_k.weight", heads: c.kvHeads),
                    v: try matrix(g + "attn_v.weight"), o: try matrix(g + "attn_output.weight"),
                    gate: try matrix(g + "ffn_gate.weight"), up: try matrix(g + "ffn_up.weight"), down: try matrix(g + "ffn_down.weight"))
            }
            let embedding = try matrix("token_embd.weight")
            let output = file.tensors["output.weight"] == nil ? embedding : try matrix("output.weight")
            return LlamaRuntime(
                configuration: c, layers: layers, embedding: embedding, finalNorm: try vector("output_norm.weight"),
                output: output, maxSequence: maxSequence, maxBatch: maxBatch, pool: pool)
        } catch let error as LlamaError {
            throw error
        } catch {
            throw .weights("\(path): \(error)")
        }
    }

    /// llama.cpp's `rope_freqs`: the divisor of each rotary frequency under the llama3 scaling.
    static func frequencyFactors(_ c: LlamaConfiguration) -> [Double]? {
        if let factors = c.ropeFrequencyFactors { return factors }
        guard c.ropeScaling != nil else { return nil }
        var plain = c
        plain.ropeScaling = nil
        return zip(plain.inverseFrequencies, c.inverseFrequencies).map { $0 / $1 }
    }

    /// The tokenizer as llama.cpp's `gpt2` BPE vocabulary: GPT-2's byte-to-character strings of
    /// every token, their types (special tokens are control) and the merges that build each token
    /// from two lower-ranked ones.
    static func vocabulary(_ t: Llama3Tokenizer, size: Int) -> [(String, GGUFValue)] {
        let special = Llama3Tokenizer.specialTokenNames, ranks = min(t.tokens.count, max(0, size - special.count))
        let text = ByteLevel.text
        var merges: [GGUFValue] = []
        for (rank, bytes) in t.tokens.prefix(ranks).enumerated() where bytes.count > 1 {
            // Merge the bytes with the ranks below this token's until two parts remain.
            let parts = bytePairMerge(bytes.map { [$0] }, stoppingAt: 2) { a, b in t.ranks[a + b].flatMap { $0 < rank ? $0 : nil } }
            if parts.count == 2 { merges.append(.string(text(parts[0]) + " " + text(parts[1]))) }
        }
        let specials = Array(special.prefix(size - ranks))
        let tokens = t.tokens.prefix(ranks).map { GGUFValue.string(text($0)) } + specials.map { .string($0) }
        let types = Array(repeating: GGUFValue.int32(1), count: ranks) + Array(repeating: .int32(3), count: specials.count)
        func id(_ name: String) -> UInt32 { UInt32(ranks + (special.firstIndex(of: name) ?? 0)) }
        return [
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("llama-bpe")), ("tokenizer.ggml.tokens", .array(tokens)),
            ("tokenizer.ggml.token_type", .array(types)), ("tokenizer.ggml.merges", .array(merges)),
            ("tokenizer.ggml.bos_token_id", .uint32(id("<|begin_of_text|>"))), ("tokenizer.ggml.eos_token_id", .uint32(id("<|eot_id|>"))),
        ]
    }
}
