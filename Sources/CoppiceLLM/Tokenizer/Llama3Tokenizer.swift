import Foundation

/// The Llama 3 tokenizer (papers.md §4.4): tiktoken-style byte-level BPE over Meta's
/// `tokenizer.model` (one "base64(bytes) rank" per line, 128,000 ranks), the Llama 3
/// pre-tokenization regex, and 256 special tokens from id 128,000. Encoding follows Meta's
/// `Tokenizer.encode`: text is cut into ≤ 400,000-character chunks and runs of more than 25,000
/// whitespace or non-whitespace characters, split by the regex, and each piece merged pair by pair,
/// lowest rank first.
public final class Llama3Tokenizer: TextTokenizer, @unchecked Sendable {
    public static let pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    public static let specialTokenNames: [String] = {
        let named = [
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
            "<|eot_id|>", "<|python_tag|>", "<|image|>",
        ]
        return named + (0..<(256 - named.count)).map { "<|reserved_special_token_\($0 + 2)|>" }
    }()

    public let ranks: [[UInt8]: Int]
    public let tokens: [[UInt8]]
    public let specialTokens: [String: Int]
    private let regex: NSRegularExpression

    public var baseCount: Int { tokens.count }
    public var vocabularySize: Int { tokens.count + specialTokens.count }
    public var beginOfText: Int { specialTokens["<|begin_of_text|>"]! }
    public var endOfText: Int { specialTokens["<|end_of_text|>"]! }
    public var endOfTurn: Int { specialTokens["<|eot_id|>"]! }
    public var endOfMessage: Int { specialTokens["<|eom_id|>"]! }
    public var pythonTag: Int { specialTokens["<|python_tag|>"]! }
    /// Generation stops at any of these: end of text, end of message (a tool call), end of turn.
    public var stopTokens: Set<Int> { [endOfText, endOfMessage, endOfTurn] }

    /// Reads `tokenizer.model`; a malformed line is an error naming it.
    public convenience init(path: String) throws(LlamaError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidInput("cannot read \(path) (scripts/fetch-data.sh puts Meta's tokenizer.model in .data/llama3/)")
        }
        try self.init(modelFile: data, name: path)
    }

    public init(modelFile data: Data, name: String = "tokenizer.model") throws(LlamaError) {
        var ranks: [[UInt8]: Int] = [:]
        var tokens: [[UInt8]] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count == 2, let bytes = Data(base64Encoded: Data(fields[0])),
                let rank = Int(String(decoding: fields[1], as: UTF8.self)), rank == tokens.count
            else {
                throw .invalidInput("\(name) line \(number + 1): expected 'base64 rank' with rank \(tokens.count)")
            }
            ranks[[UInt8](bytes)] = rank
            tokens.append([UInt8](bytes))
        }
        // Byte-level BPE can fall back to single bytes only if all 256 are ranked.
        if let missing = (0...255).first(where: { ranks[[UInt8($0)]] == nil }) {
            throw .invalidInput("\(name): byte \(missing) has no rank (\(tokens.count) ranks read); not a byte-level BPE model")
        }
        self.ranks = ranks
        self.tokens = tokens
        specialTokens = Dictionary(uniqueKeysWithValues: Self.specialTokenNames.enumerated().map { ($1, tokens.count + $0) })
        guard let regex = try? NSRegularExpression(pattern: Self.pattern) else {
            throw .invalidConfiguration("this platform's regular expressions do not accept the Llama 3 pre-tokenization pattern")
        }
        self.regex = regex
    }

    /// Token ids of `text`; special-token text is encoded as special tokens only with
    /// `allowSpecial` (Meta's default encodes it as plain text).
    public func tokens(_ text: String, bos: Bool, allowSpecial: Bool) -> [Int] {
        var ids: [Int] = bos ? [beginOfText] : []
        for (segment, special) in allowSpecial ? splitSpecial(text) : [(text, nil)] {
            if let special { ids.append(special); continue }
            let scalars = Array(segment.unicodeScalars)
            for start in stride(from: 0, to: scalars.count, by: 400_000) {
                for piece in Self.splitLongRuns(Array(scalars[start..<min(start + 400_000, scalars.count)]), limit: 25_000) {
                    encodeOrdinary(piece, into: &ids)
                }
            }
        }
        return ids
    }

    public func specialToken(_ name: String) -> Int? { specialTokens[name] }

    public var chatTemplate: ChatTemplate { .llama3 }

    public func textPieces() -> [Int: [UInt8]] { Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($0, $1) }) }

    public func bytes(_ ids: [Int]) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids {
            if id >= 0 && id < tokens.count {
                out += tokens[id]
            } else if id >= tokens.count && id < vocabularySize {
                out += Array(Self.specialTokenNames[id - tokens.count].utf8)
            }
        }
        return out
    }

    private func splitSpecial(_ text: String) -> [(String, Int?)] {
        var out: [(String, Int?)] = []
        var rest = Substring(text)
        while let open = rest.range(of: "<|") {
            if let close = rest[open.upperBound...].range(of: "|>"), let id = specialTokens[String(rest[open.lowerBound..<close.upperBound])] {
                out.append((String(rest[..<open.lowerBound]), nil))
                out.append(("", id))
                rest = rest[close.upperBound...]
            } else {
                out.append((String(rest[..<open.upperBound]), nil))
                rest = rest[open.upperBound...]
            }
        }
        out.append((String(rest), nil))
        // Adjacent plain pieces join again, so the regex sees the text as one.
        var merged: [(String, Int?)] = []
        for item in out {
            if item.1 == nil, let last = merged.last, last.1 == nil { merged[merged.count - 1].0 += item.0 } else { merged.append(item) }
        }
        return merged.filter { $0.1 != nil || !$0.0.isEmpty }
    }

    private func encodeOrdinary(_ text: String, into ids: inout [Int]) {
        let ns = text as NSString
        for match in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let piece = Array(ns.substring(with: match.range).utf8)
            if let rank = ranks[piece] { ids.append(rank) } else { ids += merge(piece) }
        }
    }

    /// tiktoken's byte-pair merge: repeatedly join the adjacent pair whose bytes have the lowest rank.
    private func merge(_ piece: [UInt8]) -> [Int] {
        bytePairMerge(piece.map { [$0] }) { ranks[$0 + $1] }.map { ranks[$0]! }
    }

    /// Meta's `_split_whitespaces_or_nonwhitespaces`: no piece holds more than `limit` consecutive
    /// whitespace or non-whitespace characters.
    static func splitLongRuns(_ scalars: [Unicode.Scalar], limit: Int) -> [String] {
        guard let first = scalars.first else { return [""] }
        var pieces: [String] = [], start = 0, run = 0, inSpace = first.properties.isWhitespace
        for (i, scalar) in scalars.enumerated() {
            let space = scalar.properties.isWhitespace
            if space != inSpace {
                run = 1
                inSpace = space
            } else {
                run += 1
                if run > limit {
                    pieces.append(String(String.UnicodeScalarView(scalars[start..<i])))
                    start = i
                    run = 1
                }
            }
        }
        pieces.append(String(String.UnicodeScalarView(scalars[start...])))
        return pieces
    }
}
