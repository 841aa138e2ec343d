/// A conversation with a model in the Llama 3 chat format, turn by turn, on one runtime whose cache
/// keeps everything said so far (so each turn runs only its new tokens).
public struct ChatSession {
    public let runtime: LlamaRuntime
    public let format: ChatFormat
    public var sampler: Sampler
    public var maxTokens: Int
    /// Tokens not yet run: the begin-of-text and system turn at first, then the end of the last reply.
    private var pending: [Int]

    public init(runtime: LlamaRuntime, tokenizer: Llama3Tokenizer, system: String? = nil, sampler: Sampler, maxTokens: Int) {
        self.runtime = runtime
        let format = ChatFormat(tokenizer: tokenizer)
        self.format = format
        self.sampler = sampler
        self.maxTokens = maxTokens
        pending = [tokenizer.beginOfText] + (system.map { format.encode(ChatMessage(.system, $0)) } ?? [])
    }

    /// The assistant's reply to `message`, each token passed to `onToken` as it comes; nil when the
    /// context has no room for the turn (start a new session).
    public mutating func reply(to message: String, onToken: (Int) -> Void = { _ in }) throws -> [Int]? {
        let tokenizer = format.tokenizer
        pending += format.encode(ChatMessage(.user, message)) + format.header(.assistant)
        guard runtime.length + pending.count < runtime.maxSequence else { return nil }
        let reply = try runtime.generate(prompt: pending, maxTokens: maxTokens, sampler: &sampler, stop: tokenizer.stopTokens, onToken: onToken)
        // The cache holds the reply but its last token; that token (and an end of turn after a reply
        // cut short) opens the next turn's input.
        let last = reply.last ?? tokenizer.endOfTurn
        pending = [last] + (tokenizer.stopTokens.contains(last) ? [] : [tokenizer.endOfTurn])
        return reply
    }
}
