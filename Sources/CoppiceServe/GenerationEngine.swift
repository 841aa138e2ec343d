import CoppiceLLM
import Foundation

/// The model behind the server: a runtime whose cache holds `parallel` sequences, scheduled by a
/// `ContinuousBatcher` on a thread of its own, and each request's tokens turned into text pieces for
/// an async handler (stop strings cut there, with the text held back that could still begin one).
public final class GenerationEngine: @unchecked Sendable {
    public enum Event: Sendable {
        case text(String)
        /// The OpenAI finish reason (`stop`, `length`), or nil when the request failed with `error`.
        case finished(reason: String?, completionTokens: Int, error: String?)
    }

    public let tokenizer: any TextTokenizer
    public let format: ChatFormat
    public let batcher: ContinuousBatcher
    public let modelName: String
    public let metrics: ServerMetrics
    /// The most tokens one request may generate.
    public let maxTokensCap: Int
    private let lock = NSLock()
    private var stopped = false
    /// The vocabulary as a trie for replies held to a grammar, built at the first such request.
    private var vocabulary: TokenVocabulary?
    private var thread: Thread?

    public init(runtime: LlamaRuntime, tokenizer: any TextTokenizer, modelName: String, queueLimit: Int, maxTokensCap: Int) throws {
        self.tokenizer = tokenizer
        format = try ChatFormat(tokenizer: tokenizer)
        batcher = ContinuousBatcher(runtime: runtime, queueLimit: queueLimit)
        let metrics = ServerMetrics(sequences: runtime.sequences)
        batcher.onDecodeStep = { metrics.batchOccupancy.record(Double($0)) }
        self.metrics = metrics
        self.modelName = modelName
        self.maxTokensCap = maxTokensCap
        // The thread holds the engine until `shutdown()`.
        let thread = Thread { [self] in batcher.run { lock.withLock { stopped } } }
        thread.name = "coppice-generation"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Ends the scheduling thread (after its current step).
    public func shutdown() { lock.withLock { stopped = true } }

    public var context: Int { batcher.runtime.maxSequence }

    /// Starts generating from `prompt`, held to `grammar` if given; the stream ends with `.finished`.
    /// Dropping the stream (a client that went away) cancels the request and frees its sequence at the
    /// next step.
    func generate(prompt: [Int], maxTokens: Int?, sampler: Sampler, stop: [String], grammar: ByteGrammar? = nil) throws(ServeError)
        -> AsyncStream<Event>
    {
        guard prompt.count < context else {
            throw ServeError(
                400, "the prompt has \(prompt.count) tokens; this server's context holds \(context) (prompt and reply together)",
                code: "context_length_exceeded")
        }
        let limit = min(maxTokens ?? maxTokensCap, maxTokensCap, context - prompt.count)
        guard limit > 0 else { throw .badRequest("max_tokens must be at least 1, got \(maxTokens ?? 0)") }
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        let pieces = TextPieces(tokenizer: tokenizer, stop: stop)
        let (metrics, clock) = (self.metrics, TokenClock())
        let constraint = grammar.map { grammar in
            GrammarConstraint(
                grammar: grammar,
                vocabulary: lock.withLock {
                    if vocabulary == nil { vocabulary = TokenVocabulary(tokenizer: tokenizer) }
                    return vocabulary!
                })
        }
        let request = ContinuousBatcher.Request(
            prompt: prompt, maxTokens: limit, sampler: sampler, stop: tokenizer.stopTokens, constraint: constraint,
            onToken: { token in
                let (sinceStart, sinceLast) = clock.tick()
                if let sinceLast { metrics.interTokenLatency.record(sinceLast) } else { metrics.timeToFirstToken.record(sinceStart) }
                let (text, hitStop) = pieces.append(token)
                if !text.isEmpty, case .terminated = continuation.yield(.text(text)) { return false }
                if hitStop { pieces.stoppedByString = true }
                return !hitStop
            },
            onFinish: { finish in
                let count = pieces.tokens
                metrics.completionTokens.increment(by: Int64(count))
                switch finish {
                case .stop, .length:
                    let rest = pieces.flush()
                    if !rest.isEmpty { continuation.yield(.text(rest)) }
                    continuation.yield(.finished(reason: finish == .stop ? "stop" : "length", completionTokens: count, error: nil))
                case .cancelled:
                    continuation.yield(.finished(reason: pieces.stoppedByString ? "stop" : nil, completionTokens: count, error: nil))
                case .failed(let message):
                    continuation.yield(.finished(reason: nil, completionTokens: count, error: message))
                }
                continuation.finish()
            })
        let id: Int
        do { id = try batcher.submit(request) } catch {
            switch error {
            case .queueFull: throw ServeError.busy("the server is busy: \(error.description); retry later")
            case .invalidRequest(let message): throw ServeError.badRequest(message)
            }
        }
        continuation.onTermination = { [batcher] reason in if case .cancelled = reason { batcher.cancel(id) } }
        metrics.promptTokens.increment(by: Int64(prompt.count))
        return stream
    }
}

/// A request's token times: seconds since it was submitted, and since its previous token.
final class TokenClock: @unchecked Sendable {
    private let start = DispatchTime.now().uptimeNanoseconds
    private var last: UInt64?

    func tick() -> (sinceStart: Double, sinceLast: Double?) {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return (Double(now - start) / 1e9, last.map { Double(now - $0) / 1e9 })
    }
}

/// A request's generated tokens as text: whole UTF-8 characters only, and none of a stop string.
public final class TextPieces: @unchecked Sendable {
    private var decoder: TokenTextStream
    private let stop: [String]
    /// Decoded text not yet handed out (it may be the start of a stop string).
    private var held = ""
    private(set) var tokens = 0
    var stoppedByString = false

    public init(tokenizer: any TextTokenizer, stop: [String]) {
        decoder = TokenTextStream(tokenizer: tokenizer)
        self.stop = stop.filter { !$0.isEmpty }
    }

    /// The text that can go out after `token`, and whether a stop string ended the reply.
    public func append(_ token: Int) -> (text: String, stopped: Bool) {
        tokens += 1
        held += decoder.append(token)
        if let range = stop.compactMap({ held.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let out = String(held[..<range.lowerBound])
            held = ""
            return (out, true)
        }
        // Keep back the longest tail that is a prefix of a stop string.
        let keep = stop.map { s in (1..<max(1, s.count)).reversed().first { held.hasSuffix(s.prefix($0)) } ?? 0 }.max() ?? 0
        let out = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (out, false)
    }

    /// What is held back, at the end of a reply that no stop string ended.
    public func flush() -> String {
        defer { held = "" }
        return held
    }
}
