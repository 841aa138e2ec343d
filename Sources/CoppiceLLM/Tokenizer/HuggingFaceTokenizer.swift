import Foundation

/// A Hugging Face `tokenizer.json` byte-level BPE (GPT-2, Llama 3 and most models shipped with one):
/// added (special) tokens are cut out of the text first; each remaining section is split by the
/// pre-tokenizer's regex (a `Split` pattern, or ByteLevel's GPT-2 pattern with `use_regex`, with an
/// optional prefix space), mapped to byte-level characters, and merged by the `merges` list, lowest
/// rank first (`ignore_merges`: a piece already in the vocabulary is one token).
public final class HuggingFaceTokenizer: @unchecked Sendable {
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    public let vocabulary: [String: Int]
    public let addedTokens: [String: Int]
    let mergeRanks: [String: Int]
    let regex: NSRegularExpression
    let addPrefixSpace: Bool
    let ignoreMerges: Bool
    private let tokenBytes: [Int: [UInt8]]

    public convenience init(path: String) throws(LlamaError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidInput("cannot read \(path)") }
        try self.init(json: data, name: path)
    }

    public init(json data: Data, name: String = "tokenizer.json") throws(LlamaError) {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw .invalidInput("\(name) is not a tokenizer.json (no model object)")
        }
        guard model["type"] as? String == "BPE", let vocabulary = model["vocab"] as? [String: Int], let merges = model["merges"] as? [Any] else {
            throw .invalidInput("\(name): model type \(model["type"] as? String ?? "none"); a BPE model with vocab and merges is read")
        }
        var ranks: [String: Int] = [:]
        for (rank, merge) in merges.enumerated() {
            if let pair = merge as? String {
                ranks[pair] = rank
            } else if let pair = merge as? [String], pair.count == 2 {
                ranks[pair[0] + " " + pair[1]] = rank
            } else {
                throw .invalidInput("\(name): merge \(rank) is neither \"a b\" nor [a, b]")
            }
        }
        // The pre-tokenizer: a Split regex, ByteLevel (with or without its own regex), or both in a Sequence.
        var steps = [root["pre_tokenizer"] as? [String: Any] ?? [:]]
        if steps[0]["type"] as? String == "Sequence" { steps = steps[0]["pretokenizers"] as? [[String: Any]] ?? [] }
        var pattern: String?, prefixSpace = false, byteLevel = false
        for step in steps {
            switch step["type"] as? String {
            case "Split":
                guard let regex = (step["pattern"] as? [String: Any])?["Regex"] as? String else {
                    throw .invalidInput("\(name): a Split pre-tokenizer without a Regex pattern")
                }
                pattern = regex
            case "ByteLevel":
                byteLevel = true
                prefixSpace = step["add_prefix_space"] as? Bool ?? false
                if step["use_regex"] as? Bool ?? true { pattern = pattern ?? Self.gpt2Pattern }
            default:
                throw .invalidInput("\(name): pre-tokenizer \(step["type"] as? String ?? "none") is not supported (Split and ByteLevel are)")
            }
        }
        guard byteLevel, let pattern, let regex = try? NSRegularExpression(pattern: pattern) else {
            throw .invalidInput("\(name): a byte-level pre-tokenizer with a regex is needed")
        }
        var bytes: [Int: [UInt8]] = [:]
        for (token, id) in vocabulary {
            guard let b = ByteLevel.decode(token) else {
                throw .invalidInput("\(name): vocabulary entry \(token.debugDescription) is not byte-level")
            }
            bytes[id] = b
        }
        var added: [String: Int] = [:]
        for token in root["added_tokens"] as? [[String: Any]] ?? [] {
            if let content = token["content"] as? String, let id = token["id"] as? Int { added[content] = id }
        }
        for (content, id) in added { bytes[id] = Array(content.utf8) }
        self.vocabulary = vocabulary
        addedTokens = added
        mergeRanks = ranks
        self.regex = regex
        addPrefixSpace = prefixSpace
        ignoreMerges = model["ignore_merges"] as? Bool ?? false
        tokenBytes = bytes
    }

    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        for (section, added) in splitAdded(text) {
            if let added { ids.append(added); continue }
            guard !section.isEmpty else { continue }
            let prepared = addPrefixSpace && !section.hasPrefix(" ") ? " " + section : section
            let ns = prepared as NSString
            for match in regex.matches(in: prepared, range: NSRange(location: 0, length: ns.length)) {
                let piece = ByteLevel.text(Array(ns.substring(with: match.range).utf8))
                if ignoreMerges, let id = vocabulary[piece] { ids.append(id); continue }
                ids += merge(piece)
            }
        }
        return ids
    }

    public func decode(_ ids: [Int]) -> String { String(decoding: ids.flatMap { tokenBytes[$0] ?? [] }, as: UTF8.self) }

    private func merge(_ piece: String) -> [Int] {
        // Every byte-level character is in the vocabulary of a byte-level BPE; a malformed file's
        // missing one is dropped rather than guessed.
        bytePairMerge(piece.map(String.init)) { mergeRanks[$0 + " " + $1] }.compactMap { vocabulary[$0] }
    }

    /// The text cut at every added token (longest match first), in order.
    private func splitAdded(_ text: String) -> [(String, Int?)] {
        guard !addedTokens.isEmpty else { return [(text, nil)] }
        let tokens = addedTokens.keys.sorted { $0.count > $1.count }
        var out: [(String, Int?)] = [], rest = Substring(text), plain = ""
        while !rest.isEmpty {
            if let token = tokens.first(where: { rest.hasPrefix($0) }) {
                if !plain.isEmpty { out.append((plain, nil)); plain = "" }
                out.append(("", addedTokens[token]))
                rest = rest.dropFirst(token.count)
            } else {
                plain.append(rest.removeFirst())
            }
        }
        if !plain.isEmpty { out.append((plain, nil)) }
        return out
    }
}
