import CoppiceLLM
import Foundation

/// `coppice serve --guard MODEL`: Llama Guard 3 judges each chat request's conversation before the
/// model answers, and the whole reply before any of it is sent (with a guard, a streamed reply is
/// generated whole and sent as one chunk). The guard runs on its own engine, greedily, in the Llama Guard 3 prompt format
/// (`CoppiceLLM.LlamaGuard`). It fails closed: an answer that is neither `safe` nor `unsafe` with
/// known categories refuses the request (503) rather than letting it through unjudged.
public struct SafetyGuard: Sendable {
    /// The guard's answer to the Llama Guard 3 prompt of a conversation (user and assistant turns).
    public let judge: @Sendable ([ChatMessage]) async throws -> String

    /// A Llama Guard 3 model on its engine, answering greedily.
    public init(engine: GenerationEngine) {
        judge = { turns in
            var sampler = Sampler(seed: 0)
            sampler.temperature = 0
            let prompt = LlamaGuard.tokens(conversation: turns, format: engine.format)
            return try await ChatServer.collect(try engine.generate(prompt: prompt, maxTokens: 12, sampler: sampler, stop: [])).0
        }
    }

    /// Verdicts from another classifier that answers in Llama Guard 3's words (`safe`, or `unsafe` and
    /// category codes on the next line).
    public init(judge: @escaping @Sendable ([ChatMessage]) async throws -> String) { self.judge = judge }

    /// Throws 400 `content_policy_violation` when the guard judges the last turn of `conversation`
    /// unsafe, 503 when it gives no verdict.
    func check(_ conversation: [ChatMessage], judging what: String) async throws {
        let turns = conversation.filter { $0.role == .user || $0.role == .assistant }
        guard !turns.isEmpty else { return }
        let answer = try await judge(turns)
        switch LlamaGuard.parse(answer) {
        case .safe: return
        case .unsafe(let categories):
            let names = categories.map { code in LlamaGuard.categories.first { $0.code == code }.map { "\(code) \($0.name)" } ?? code }
            throw ServeError(
                400, "Llama Guard judged the \(what) unsafe (\(names.joined(separator: ", ")))", code: "content_policy_violation")
        case nil:
            throw ServeError(
                503, "the guard model gave no verdict on the \(what) (it answered '\(answer.prefix(80))'); is it a Llama Guard 3 model?",
                type: "server_error", code: "guard_unavailable")
        }
    }
}
