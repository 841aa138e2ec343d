/// What running and chatting with a model needs of its tokenizer: Meta's Llama 3 `tokenizer.model`
/// (`Llama3Tokenizer`) or a byte-level BPE vocabulary from a `tokenizer.json` or a GGUF file's
/// metadata (`HuggingFaceTokenizer`).
public protocol TextTokenizer: AnyObject, Sendable {
    /// Token ids of `text`, the beginning-of-text token first when `bos` and the model takes one;
    /// special-token text becomes special tokens only with `allowSpecial` (`encode` is the call).
    func tokens(_ text: String, bos: Bool, allowSpecial: Bool) -> [Int]
    /// The bytes of `ids` (special tokens by name).
    func bytes(_ ids: [Int]) -> [UInt8]
    /// Every ordinary token's bytes by id, special and control tokens left out: what a reply held to
    /// a grammar may be made of.
    func textPieces() -> [Int: [UInt8]]
    /// The id of a special token by name (`<|eot_id|>`, `<|im_start|>`, …).
    func specialToken(_ name: String) -> Int?
    /// Generation stops after any of these.
    var stopTokens: Set<Int> { get }
    /// The chat format the model was tuned on.
    var chatTemplate: ChatTemplate { get }
}

extension TextTokenizer {
    public func encode(_ text: String, bos: Bool = false, allowSpecial: Bool = false) -> [Int] { tokens(text, bos: bos, allowSpecial: allowSpecial) }

    /// The text of `ids` (bytes that do not form UTF-8 become U+FFFD).
    public func decode(_ ids: [Int]) -> String { String(decoding: bytes(ids), as: UTF8.self) }
}
