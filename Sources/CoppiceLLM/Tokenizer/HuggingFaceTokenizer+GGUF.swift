import CoppiceFormats

extension HuggingFaceTokenizer {
    /// llama.cpp's pre-tokenizer regexes by the name a GGUF file gives (`tokenizer.ggml.pre`), for the
    /// byte-level vocabularies Coppice reads.
    static let preTokenizers: [String: [String]] = {
        let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
        let llama3 = [Llama3Tokenizer.pattern]
        return [
            "default": [gpt2], "gpt2": [gpt2], "gpt-2": [gpt2], "mpt": [gpt2], "olmo": [gpt2],
            "smollm": [#"\p{N}"#, gpt2], "starcoder": [#"\p{N}"#, gpt2], "refact": [#"\p{N}"#, gpt2],
            "llama3": llama3, "llama-v3": llama3, "llama-bpe": llama3, "falcon3": llama3,
        ]
    }()

    /// The tokenizer a GGUF file carries (`tokenizer.ggml.model` gpt2: tokens in byte-level characters,
    /// their types, merges, the pre-tokenizer's name, BOS/EOS ids and the chat template). Control tokens
    /// (type 3) are cut out of text only when special tokens are allowed, user-defined ones (4) always,
    /// as llama.cpp does; generation stops at EOS, EOT and the vocabulary's end-of-turn tokens.
    public convenience init(gguf metadata: [String: GGUFValue], name: String) throws(LlamaError) {
        let (tokens, types, merges, pre) = try Self.ggufVocabulary(metadata, name: name)
        let patterns = Self.preTokenizers[pre]!
        var vocabulary: [String: Int] = [:], added: [String: Int] = [:], control: [String: Int] = [:]
        for (id, (token, type)) in zip(tokens, types).enumerated() {
            switch type {
            case 3: control[token] = id
            case 4: added[token] = id
            default: vocabulary[token] = vocabulary[token] ?? id
            }
        }
        func id(_ key: String) throws(LlamaError) -> Int? {
            guard let value = metadata[key] else { return nil }
            guard let id = value.integer, (0..<tokens.count).contains(id) else { throw .invalidInput("\(name): \(key) \(value) is not a token id") }
            return id
        }
        let bos = try id("tokenizer.ggml.bos_token_id"), eos = try id("tokenizer.ggml.eos_token_id"), eot = try id("tokenizer.ggml.eot_token_id")
        let llama3 = Self.preTokenizers[pre] == [Llama3Tokenizer.pattern]
        // As llama.cpp: Llama 3 vocabularies take a BOS token unless the file says otherwise.
        let addsBOS: Bool
        if case .bool(let flag) = metadata["tokenizer.ggml.add_bos_token"] { addsBOS = flag } else { addsBOS = llama3 }
        var template: ChatTemplate = llama3 ? .llama3 : .chatML(defaultSystem: nil)
        if let jinja = metadata["tokenizer.chat_template"]?.string, let recognised = ChatTemplate(jinja: jinja) { template = recognised }
        let special = added.merging(control, uniquingKeysWith: { a, _ in a })
        try self.init(
            vocabulary: vocabulary, merges: merges, added: added, control: control, patterns: patterns, addPrefixSpace: false,
            ignoreMerges: llama3, beginOfText: addsBOS ? bos : nil,
            stopTokens: Set([eos, eot].compactMap { $0 } + Self.stopNames.compactMap { special[$0] }), chatTemplate: template, name: name)
    }

    /// The vocabulary of a GGUF file's `gpt2` tokenizer: tokens, their types, merges, and the pre-tokenizer's name.
    static func ggufVocabulary(_ metadata: [String: GGUFValue], name: String) throws(LlamaError)
        -> (tokens: [String], types: [Int], merges: [String], pre: String)
    {
        func strings(_ key: String) throws(LlamaError) -> [String] {
            guard case .array(let values)? = metadata[key] else { throw .invalidInput("\(name): \(key) is missing") }
            let strings = values.compactMap(\.string)
            guard strings.count == values.count else { throw .invalidInput("\(name): \(key) is not a list of strings") }
            return strings
        }
        let model = metadata["tokenizer.ggml.model"]?.string ?? "none"
        guard model == "gpt2" else { throw .invalidInput("\(name): tokenizer model \(model); the byte-level BPE model gpt2 is read") }
        let tokens = try strings("tokenizer.ggml.tokens"), merges = try strings("tokenizer.ggml.merges")
        guard !tokens.isEmpty else { throw .invalidInput("\(name): tokenizer.ggml.tokens is empty") }
        var types = [Int](repeating: 1, count: tokens.count)
        if case .array(let values) = metadata["tokenizer.ggml.token_type"] {
            guard values.count == tokens.count else {
                throw .invalidInput("\(name): \(values.count) token types for \(tokens.count) tokens")
            }
            types = values.map { $0.integer ?? 1 }
        }
        let pre = metadata["tokenizer.ggml.pre"]?.string ?? "default"
        guard Self.preTokenizers[pre] != nil else {
            throw .invalidInput("\(name): pre-tokenizer '\(pre)' is not known; \(Self.preTokenizers.keys.sorted().joined(separator: ", ")) are")
        }
        return (tokens, types, merges, pre)
    }
}
