/// Turns generated tokens into text as they come: bytes are held back until they form whole UTF-8
/// characters (a character may span tokens), and stop tokens print nothing.
public struct TokenTextStream {
    public let tokenizer: any TextTokenizer
    private var pending: [UInt8] = []

    public init(tokenizer: any TextTokenizer) { self.tokenizer = tokenizer }

    /// The text that `token` completes (empty while a character is still partial).
    public mutating func append(_ token: Int) -> String {
        guard !tokenizer.stopTokens.contains(token) else { return "" }
        pending += tokenizer.bytes([token])
        guard let text = String(validating: pending, as: UTF8.self) else { return "" }
        pending.removeAll()
        return text
    }
}
