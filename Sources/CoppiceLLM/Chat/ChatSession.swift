/// A conversation with a model in its chat template, turn by turn, on one runtime whose cache keeps
/// everything said so far (so each turn runs only its new tokens).
public struct ChatSession {
    public let runtime: LlamaRuntime
    public let format: ChatFormat
    public var sampler: Sampler
    public var maxTokens: Int
    /// Tokens not yet run: the opening (BOS, system turn) at first, then the end of the last reply.
    private var pending: [Int]

    public init(runtime: LlamaRuntime, tokenizer: any TextTokenizer, system: String? = nil, sampler: Sampler, maxTokens: Int) throws {
        self.runtime = runtime
        let format = try ChatFormat(tokenizer: tokenizer)
        self.format = format
        self.sampler = sampler
        self.maxTokens = maxTokens
        pending = format.opening(system: system)
    }

    /// The assistant's reply to `message`, each token passed to `onToken` as it comes; nil when the
    /// context has no room for the turn (start a new session).
    public mutating func reply(to message: String, onToken: (Int) -> Void = { _ in }) throws -> [Int]? {
        pending += format.encode(ChatMessage(.user, message)) + format.header(.assistant)
        guard runtime.length + pending.count < runtime.maxSequence else { return nil }
        let reply = try runtime.generate(
            prompt: pending, maxTokens: maxTokens, sampler: &sampler, stop: format.tokenizer.stopTokens, onToken: onToken)
        // The cache holds the reply but its last token; that token (and an end of turn after a reply
        // cut short) opens the next turn's input.
        pending = format.closing(reply: reply)
        return reply
    }
}
