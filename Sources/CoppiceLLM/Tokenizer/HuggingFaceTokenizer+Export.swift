import CoppiceFormats
import Foundation

extension HuggingFaceTokenizer {
    /// A Hugging Face `tokenizer.json` for the vocabulary a GGUF file carries, which `init(json:)` reads
    /// back to the same tokens: a BPE model (the byte-level vocabulary and merges), the GGUF
    /// pre-tokenizer's regexes as Split steps before a regex-free ByteLevel, and the control and
    /// user-defined tokens as added tokens (control ones marked special).
    public static func tokenizerJSON(gguf metadata: [String: GGUFValue]) throws(LlamaError) -> Data {
        let (tokens, types, merges, pre) = try ggufVocabulary(metadata, name: "GGUF metadata")
        var vocabulary: [String: Int] = [:], added: [[String: Any]] = []
        for (id, (token, type)) in zip(tokens, types).enumerated() {
            if type == 3 || type == 4 {
                added.append([
                    "id": id, "content": token, "special": type == 3, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false,
                ])
            } else if vocabulary[token] == nil {
                vocabulary[token] = id
            }
        }
        let patterns = preTokenizers[pre]!
        let splits: [[String: Any]] = patterns.map { ["type": "Split", "pattern": ["Regex": $0], "behavior": "Isolated", "invert": false] }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]
        let json: [String: Any] = [
            "version": "1.0", "added_tokens": added, "normalizer": NSNull(), "post_processor": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": splits + [byteLevel]],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "fuse_unk": false, "byte_fallback": false,
                "ignore_merges": patterns == [Llama3Tokenizer.pattern], "vocab": vocabulary, "merges": merges,
            ],
        ]
        do { return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) } catch {
            throw .invalidInput("tokenizer.json: \(error)")
        }
    }

    /// `tokenizer_config.json` for a GGUF file's tokenizer: its chat template, BOS/EOS tokens and
    /// whether a BOS token is added.
    public static func tokenizerConfigJSON(gguf metadata: [String: GGUFValue]) throws(LlamaError) -> Data {
        let (tokens, _, _, _) = try ggufVocabulary(metadata, name: "GGUF metadata")
        func token(_ key: String) -> Any {
            metadata[key]?.integer.flatMap { tokens.indices.contains($0) ? tokens[$0] : nil } ?? NSNull()
        }
        var json: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": token("tokenizer.ggml.bos_token_id"),
            "eos_token": token("tokenizer.ggml.eos_token_id"),
        ]
        if case .bool(let flag) = metadata["tokenizer.ggml.add_bos_token"] { json["add_bos_token"] = flag }
        if let template = metadata["tokenizer.chat_template"]?.string { json["chat_template"] = template }
        do { return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]) } catch {
            throw .invalidInput("tokenizer_config.json: \(error)")
        }
    }
}
