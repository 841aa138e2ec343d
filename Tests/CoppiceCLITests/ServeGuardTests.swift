import CoppiceKernels
import CoppiceLLM
import CoppiceServe
import Foundation
import Testing

/// `coppice serve --guard`, in process on a loopback port: SmolLM2 answers, and a guard that answers
/// in Llama Guard 3's words (no Llama Guard 3 weights can be fetched here) judges each request and each
/// whole reply — an unsafe request or reply is refused with 400, no verdict with 503, and a streamed
/// reply is judged whole before any of it is sent.
@Suite(.serialized) struct ServeGuardTests {
    /// What the guard was asked to judge: the role of each conversation's last turn.
    final class Judged: @unchecked Sendable {
        private let lock = NSLock()
        private var roles: [ChatMessage.Role] = []
        func append(_ role: ChatMessage.Role) { lock.withLock { roles.append(role) } }
        func take() -> [ChatMessage.Role] {
            lock.withLock {
                defer { roles = [] }; return roles
            }
        }
    }

    @Test func theGuardRefusesUnsafeRequestsAndReplies() async throws {
        // F32 weights: a prompt whose prefix is cached rounds as one run whole (see ServeTests).
        let (runtime, tokenizer) = try LlamaRuntime.load(model: ServeTests.model, tokenizer: nil, context: 512, weightType: .f32)
        let engine = try GenerationEngine(runtime: runtime.withSequences(2), tokenizer: tokenizer, modelName: "m", queueLimit: 4, maxTokensCap: 64)
        defer { engine.shutdown() }
        let judged = Judged()
        let safety = SafetyGuard { turns in
            let last = turns.last!, user = turns.last { $0.role == .user }?.content ?? ""
            judged.append(last.role)
            if user.contains("unclear") { return "maybe" }
            if last.role == .user && user.contains("forbidden") { return "unsafe\nS2" }
            if last.role == .assistant && user.contains("judge the reply") { return "unsafe\nS9,S14" }
            return "safe"
        }
        var configuration = ChatServer.Configuration()
        configuration.port = 0
        let server = ChatServer(engine: engine, configuration: configuration, safety: safety)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run(onRunning: { continuation.yield($0) }) }
        defer { serving.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        func chat(_ content: String, stream: Bool = false) throws -> (status: Int, body: String) {
            try ServeTests.request(
                port: port, "/v1/chat/completions",
                body: #"{"messages": [{"role": "user", "content": "\#(content)"}], "max_tokens": 8, "temperature": 0, "stream": \#(stream)}"#)
        }
        let safe = try chat("Say hello.")
        #expect(safe.status == 200 && judged.take() == [.user, .assistant], "\(safe.body)")
        let request = try chat("Something forbidden.")
        #expect(request.status == 400 && request.body.contains("content_policy_violation") && request.body.contains("S2 Non-Violent Crimes"))
        #expect(judged.take() == [.user], "an unsafe request is not answered")
        let reply = try chat("Say hello, and judge the reply.")
        #expect(reply.status == 400 && reply.body.contains("judged the reply unsafe (S9 Indiscriminate Weapons, S14 Code Interpreter Abuse)"))
        let unclear = try chat("Something unclear.")
        #expect(unclear.status == 503 && unclear.body.contains("guard_unavailable"), "fails closed: \(unclear.body)")

        // Streamed: judged whole, then sent (the same greedy reply); an unsafe one sends nothing of it.
        _ = judged.take()
        let streamed = try chat("Say hello.", stream: true)
        let events = streamed.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(streamed.status == 200 && events.last == "data: [DONE]" && judged.take() == [.user, .assistant])
        let whole = try #require(try JSONSerialization.jsonObject(with: Data(safe.body.utf8)) as? [String: Any])
        let text = try #require(((whole["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String)
        let escaped = String(decoding: try JSONEncoder().encode(text), as: UTF8.self).dropFirst().dropLast()
        #expect(!text.isEmpty && streamed.body.contains(escaped), "\(streamed.body)")
        let unsafeStream = try chat("Say hello, and judge the reply.", stream: true)
        #expect(unsafeStream.status == 400 && !unsafeStream.body.contains("data:"), "\(unsafeStream.body)")
    }
}
