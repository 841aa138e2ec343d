import Foundation

/// A byte-level BPE (GPT-2, Llama 3, SmolLM2 and most models), from a Hugging Face `tokenizer.json` or
/// a GGUF file's `gpt2` vocabulary: added (special) tokens are cut out of the text first; each
/// remaining section is split by the pre-tokenizer's regexes in turn (text between matches stays a
/// piece, as in Hugging Face's `Split` and llama.cpp), optionally after a prefix space, mapped to
/// byte-level characters, and merged by the `merges` list, lowest rank first (`ignore_merges`: a piece
/// already in the vocabulary is one token).
public final class HuggingFaceTokenizer: TextTokenizer, @unchecked Sendable {
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    public let vocabulary: [String: Int]
    /// Tokens cut out of any text (tokenizer.json's added tokens, a GGUF's user-defined tokens).
    public let addedTokens: [String: Int]
    /// Tokens cut out of text only when special tokens are allowed (a GGUF's control tokens).
    public let controlTokens: [String: Int]
    let mergeRanks: [String: Int]
    let regexes: [NSRegularExpression]
    let addPrefixSpace: Bool
    let ignoreMerges: Bool
    let beginOfText: Int?
    public let stopTokens: Set<Int>
    public let chatTemplate: ChatTemplate
    private let tokenBytes: [Int: [UInt8]]

    /// The pieces of a byte-level BPE; `vocabulary` in byte-level characters, `merges` as "a b".
    init(
        vocabulary: [String: Int], merges: [String], added: [String: Int], control: [String: Int], patterns: [String],
        addPrefixSpace: Bool, ignoreMerges: Bool, beginOfText: Int?, stopTokens: Set<Int>, chatTemplate: ChatTemplate, name: String
    ) throws(LlamaError) {
        var regexes: [NSRegularExpression] = []
        for pattern in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern) else {
                throw .invalidInput("\(name): pre-tokenizer regex \(pattern) does not compile")
            }
            regexes.append(regex)
        }
        var bytes: [Int: [UInt8]] = [:]
        for (token, id) in vocabulary {
            guard let b = ByteLevel.decode(token) else {
                throw .invalidInput("\(name): vocabulary entry \(token.debugDescription) is not byte-level")
            }
            bytes[id] = b
        }
        for (content, id) in added.merging(control, uniquingKeysWith: { a, _ in a }) { bytes[id] = Array(content.utf8) }
        self.vocabulary = vocabulary
        addedTokens = added
        controlTokens = control
        mergeRanks = Dictionary(merges.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        self.regexes = regexes
        self.addPrefixSpace = addPrefixSpace
        self.ignoreMerges = ignoreMerges
        self.beginOfText = beginOfText
        self.stopTokens = stopTokens
        self.chatTemplate = chatTemplate
        tokenBytes = bytes
    }

    /// A `tokenizer.json`, with the chat template of a `tokenizer_config.json` beside it where that
    /// has one Coppice knows.
    public convenience init(path: String) throws(LlamaError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidInput("cannot read \(path)") }
        let config = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("tokenizer_config.json").path
        let jinja = FileManager.default.contents(atPath: config).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        try self.init(json: data, name: path, chatTemplate: (jinja?["chat_template"] as? String).flatMap(ChatTemplate.init(jinja:)))
    }

    /// `chatTemplate` nil: ChatML for a vocabulary with `<|im_start|>` and no Llama 3 headers, else Llama 3's.
    public convenience init(json data: Data, name: String = "tokenizer.json", chatTemplate: ChatTemplate? = nil) throws(LlamaError) {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw .invalidInput("\(name) is not a tokenizer.json (no model object)")
        }
        guard model["type"] as? String == "BPE", let vocabulary = model["vocab"] as? [String: Int], let merges = model["merges"] as? [Any] else {
            throw .invalidInput("\(name): model type \(model["type"] as? String ?? "none"); a BPE model with vocab and merges is read")
        }
        var pairs: [String] = []
        for (rank, merge) in merges.enumerated() {
            if let pair = merge as? String {
                pairs.append(pair)
            } else if let pair = merge as? [String], pair.count == 2 {
                pairs.append(pair[0] + " " + pair[1])
            } else {
                throw .invalidInput("\(name): merge \(rank) is neither \"a b\" nor [a, b]")
            }
        }
        // The pre-tokenizer: Split regexes, Digits, ByteLevel (with or without its own regex), or a Sequence of them.
        var steps = [root["pre_tokenizer"] as? [String: Any] ?? [:]]
        if steps[0]["type"] as? String == "Sequence" { steps = steps[0]["pretokenizers"] as? [[String: Any]] ?? [] }
        var patterns: [String] = [], prefixSpace = false, byteLevel = false
        for step in steps {
            switch step["type"] as? String {
            case "Split":
                guard let regex = (step["pattern"] as? [String: Any])?["Regex"] as? String else {
                    throw .invalidInput("\(name): a Split pre-tokenizer without a Regex pattern")
                }
                patterns.append(regex)
            case "Digits":
                patterns.append(step["individual_digits"] as? Bool ?? false ? #"\p{N}"# : #"\p{N}+"#)
            case "ByteLevel":
                byteLevel = true
                prefixSpace = step["add_prefix_space"] as? Bool ?? false
                if step["use_regex"] as? Bool ?? true { patterns.append(Self.gpt2Pattern) }
            default:
                throw .invalidInput("\(name): pre-tokenizer \(step["type"] as? String ?? "none") is not supported (Split, Digits and ByteLevel are)")
            }
        }
        guard byteLevel, !patterns.isEmpty else { throw .invalidInput("\(name): a byte-level pre-tokenizer with a regex is needed") }
        var added: [String: Int] = [:]
        for token in root["added_tokens"] as? [[String: Any]] ?? [] {
            if let content = token["content"] as? String, let id = token["id"] as? Int { added[content] = id }
        }
        let template = chatTemplate ?? (added["<|im_start|>"] != nil && added["<|start_header_id|>"] == nil ? .chatML(defaultSystem: nil) : .llama3)
        try self.init(
            vocabulary: vocabulary, merges: pairs, added: added, control: [:], patterns: patterns, addPrefixSpace: prefixSpace,
            ignoreMerges: model["ignore_merges"] as? Bool ?? false, beginOfText: added["<|begin_of_text|>"],
            stopTokens: Set(Self.stopNames.compactMap { added[$0] }), chatTemplate: template, name: name)
    }

    /// End-of-text and end-of-turn tokens of the common vocabularies.
    static let stopNames = ["<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|endoftext|>", "<|im_end|>", "</s>"]

    public func tokens(_ text: String, bos: Bool, allowSpecial: Bool) -> [Int] {
        var ids: [Int] = bos ? beginOfText.map { [$0] } ?? [] : []
        let cut = allowSpecial ? addedTokens.merging(controlTokens, uniquingKeysWith: { a, _ in a }) : addedTokens
        for (section, special) in split(text, at: cut) {
            if let special { ids.append(special); continue }
            guard !section.isEmpty else { continue }
            for piece in pieces(addPrefixSpace && !section.hasPrefix(" ") ? " " + section : section) {
                let text = ByteLevel.text(Array(piece.utf8))
                if ignoreMerges, let id = vocabulary[text] { ids.append(id); continue }
                ids += merge(text)
            }
        }
        return ids
    }

    public func bytes(_ ids: [Int]) -> [UInt8] { ids.flatMap { tokenBytes[$0] ?? [] } }

    public func textPieces() -> [Int: [UInt8]] {
        let special = Set(addedTokens.values).union(controlTokens.values)
        return tokenBytes.filter { !special.contains($0.key) }
    }

    public func specialToken(_ name: String) -> Int? { addedTokens[name] ?? controlTokens[name] }

    /// The pre-tokenizer's pieces: each regex splits every piece of the one before into its matches
    /// and the text between them.
    func pieces(_ text: String) -> [String] {
        var pieces = [text]
        for regex in regexes {
            pieces = pieces.flatMap { piece -> [String] in
                let ns = piece as NSString
                var out: [String] = [], end = 0
                for match in regex.matches(in: piece, range: NSRange(location: 0, length: ns.length)) where match.range.length > 0 {
                    if match.range.location > end { out.append(ns.substring(with: NSRange(location: end, length: match.range.location - end))) }
                    out.append(ns.substring(with: match.range))
                    end = match.range.location + match.range.length
                }
                if end < ns.length { out.append(ns.substring(from: end)) }
                return out
            }
        }
        return pieces
    }

    private func merge(_ piece: String) -> [Int] {
        // Every byte-level character is in the vocabulary of a byte-level BPE; a malformed file's
        // missing one is dropped rather than guessed.
        bytePairMerge(piece.map(String.init)) { mergeRanks[$0 + " " + $1] }.compactMap { vocabulary[$0] }
    }

    /// The text cut at every token of `tokens` (longest match first), in order.
    private func split(_ text: String, at tokens: [String: Int]) -> [(String, Int?)] {
        guard !tokens.isEmpty else { return [(text, nil)] }
        let names = tokens.keys.sorted { $0.count > $1.count }, firsts = Set(names.compactMap(\.first))
        var out: [(String, Int?)] = [], rest = Substring(text), plain = ""
        while let first = rest.first {
            if firsts.contains(first), let token = names.first(where: { rest.hasPrefix($0) }) {
                if !plain.isEmpty { out.append((plain, nil)); plain = "" }
                out.append(("", tokens[token]))
                rest = rest.dropFirst(token.count)
            } else {
                plain.append(rest.removeFirst())
            }
        }
        if !plain.isEmpty { out.append((plain, nil)) }
        return out
    }
}
