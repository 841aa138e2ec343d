import CoppiceLLM
import Foundation
import Hummingbird
import Logging

/// `coppice serve`: an OpenAI-compatible HTTP server (chat and text completions, streaming as
/// server-sent events, the model list, health) on Hummingbird, in front of a `GenerationEngine`.
public struct ChatServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0: any free port (`onRunning` hears which).
        public var port = 8080
        /// Keys a request may present as `Authorization: Bearer KEY`; empty: no key needed.
        public var apiKeys: Set<String> = []
        /// Largest request body, bytes (a larger one gets 413).
        public var maxBodyBytes = 1 << 20

        public init() {}
    }

    public let engine: GenerationEngine
    public let configuration: Configuration
    /// Llama Guard on the chat requests and replies (`--guard`); nil: none.
    public let safety: SafetyGuard?
    let created = Int(Date().timeIntervalSince1970)

    public init(engine: GenerationEngine, configuration: Configuration, safety: SafetyGuard? = nil) {
        self.engine = engine
        self.configuration = configuration
        self.safety = safety
    }

    /// Serves until the task is cancelled; `onRunning` hears the bound port.
    public func run(logger: Logger = Logger(label: "coppice.serve"), onRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let router = Router()
        router.add(middleware: ErrorMiddleware(maxBodyBytes: configuration.maxBodyBytes, metrics: engine.metrics))
        router.add(middleware: KeyMiddleware(keys: configuration.apiKeys))
        router.get("/health") { _, _ in try json(["status": "ok"]) }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: engine.metrics.text(engine.batcher))))
        }
        router.get("/v1/models") { _, _ in
            try json(ModelList(data: [.init(id: engine.modelName, created: created)]))
        }
        router.post("/v1/chat/completions") { request, _ in
            let body = try await body(request)
            return try await chat(try decode(ChatCompletionRequest.self, body), body: body)
        }
        router.post("/v1/completions") { request, _ in try await complete(try decode(CompletionRequest.self, try await body(request))) }
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "coppice"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    func body(_ request: Request) async throws -> Data {
        var request = request
        return Data(buffer: try await request.collectBody(upTo: configuration.maxBodyBytes))
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: Data) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: body) } catch let error as DecodingError {
            throw ServeError.badRequest("the body is not a valid request: \(Self.describe(error))")
        } catch {
            throw ServeError.badRequest("the body is not JSON: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            (c.codingPath.isEmpty ? "" : "field '\(c.codingPath.map(\.stringValue).joined(separator: "."))': ") + c.debugDescription
        @unknown default: "\(error)"
        }
    }

    /// The sampler a request's fields ask for (OpenAI's defaults: temperature 1, top_p 1).
    func sampler(_ fields: SamplingFields) throws -> Sampler {
        guard (fields.n ?? 1) == 1 else { throw ServeError.badRequest("n must be 1 (one choice per request), got \(fields.n!)") }
        let temperature = fields.temperature ?? 1, topP = fields.topP ?? 1
        guard (0...2).contains(temperature), topP > 0, topP <= 1 else {
            throw ServeError.badRequest("temperature must be in [0, 2] and top_p in (0, 1]; got \(temperature) and \(topP)")
        }
        guard fields.stop.count <= 4 else { throw ServeError.badRequest("at most 4 stop strings, got \(fields.stop.count)") }
        var sampler = Sampler(seed: fields.seed ?? UInt64.random(in: 0...UInt64.max))
        (sampler.temperature, sampler.topP) = (temperature, topP)
        (sampler.presencePenalty, sampler.frequencyPenalty) = (fields.presencePenalty ?? 0, fields.frequencyPenalty ?? 0)
        return sampler
    }

    /// `body`: the request's JSON, for `response_format`'s schema in its written order.
    func chat(_ request: ChatCompletionRequest, body: Data) async throws -> Response {
        guard !request.messages.isEmpty else { throw ServeError.badRequest("messages must not be empty") }
        let tools = try ToolCalling(tools: request.tools, choice: request.toolChoice)
        let grammar = try tools.requiredCallGrammar(body: body) ?? request.responseFormat?.grammar(body: body)
        let lastUser = request.messages.lastIndex { $0.role == "user" }
        let messages = try request.messages.enumerated().map { i, m -> ChatMessage in
            let text = m.content?.text ?? ""
            switch m.role {
            case "system", "developer": return ChatMessage(.system, text)
            case "user": return ChatMessage(.user, i == lastUser ? tools.userTurn(text) : text)
            case "assistant": return ChatMessage(.assistant, m.toolCalls.map(ToolCalling.turn) ?? text)
            case "tool", "ipython": return ChatMessage(.ipython, text)
            default: throw ServeError.badRequest("unknown message role '\(m.role)' (system, user, assistant or tool)")
            }
        }
        try await safety?.check(messages, judging: "request")
        let prompt = engine.format.encodeDialogPrompt(messages)
        let fields = request.sampling
        let events = try engine.generate(
            prompt: prompt, maxTokens: fields.maxCompletionTokens ?? fields.maxTokens, sampler: try sampler(fields), stop: fields.stop,
            grammar: grammar)
        let id = "chatcmpl-" + UUID().uuidString.lowercased(), model = engine.modelName, created = Int(Date().timeIntervalSince1970)
        if tools.functions != nil || safety != nil || !fields.stream {
            // Generated whole first: a tool call, and the guard's verdict on the reply, are known only
            // then (a streamed request then gets the whole reply in one chunk).
            let (text, reason, count) = try await Self.collect(events)
            try await safety?.check(messages + [ChatMessage(.assistant, text)], judging: "reply")
            let usage = Usage(promptTokens: prompt.count, completionTokens: count)
            let call = tools.call(in: text).map {
                ToolCallMessage(id: "call_" + UUID().uuidString.lowercased().prefix(24), function: .init(name: $0.name, arguments: $0.arguments))
            }
            let message = AssistantMessage(content: Nullable(call == nil ? text : nil), toolCalls: call.map { [$0] })
            let finish = call == nil ? reason : "tool_calls"
            guard fields.stream else {
                return try json(
                    ChatCompletion(id: id, created: created, model: model, choices: [.init(message: message, finishReason: finish)], usage: usage))
            }
            let delta = ChatCompletionChunk.Delta(
                content: message.content.value, toolCalls: call.map { [.init(id: $0.id, function: $0.function)] })
            let chunks = [
                ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: .init(role: "assistant", content: ""))]),
                ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: delta)]),
                ChatCompletionChunk(
                    id: id, created: created, model: model, choices: [.init(delta: .init(), finishReason: Nullable(finish))],
                    usage: (fields.streamOptions?.includeUsage ?? false) ? usage : nil),
            ]
            return try Self.eventStream(chunks)
        }
        let includeUsage = fields.streamOptions?.includeUsage ?? false
        return Self.eventStream(events) { event in
            switch event {
            case .first:
                return ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: .init(role: "assistant", content: ""))])
            case .text(let text):
                return ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: .init(content: text))])
            case .finished(let reason, let count):
                var last = ChatCompletionChunk(
                    id: id, created: created, model: model, choices: [.init(delta: .init(), finishReason: Nullable(reason))])
                if includeUsage { last.usage = Usage(promptTokens: prompt.count, completionTokens: count) }
                return last
            }
        }
    }

    func complete(_ request: CompletionRequest) async throws -> Response {
        let prompt = engine.tokenizer.encode(request.prompt.text, bos: true)
        let fields = request.sampling
        let events = try engine.generate(prompt: prompt, maxTokens: fields.maxTokens ?? 16, sampler: try sampler(fields), stop: fields.stop)
        let id = "cmpl-" + UUID().uuidString.lowercased(), model = engine.modelName, created = Int(Date().timeIntervalSince1970)
        guard fields.stream else {
            let (text, reason, count) = try await Self.collect(events)
            return try json(
                TextCompletion(
                    id: id, created: created, model: model, choices: [.init(text: text, finishReason: Nullable(reason))],
                    usage: Usage(promptTokens: prompt.count, completionTokens: count)))
        }
        let includeUsage = fields.streamOptions?.includeUsage ?? false
        return Self.eventStream(events) { event in
            switch event {
            case .first: return nil
            case .text(let text): return TextCompletion(id: id, created: created, model: model, choices: [.init(text: text)])
            case .finished(let reason, let count):
                return TextCompletion(
                    id: id, created: created, model: model, choices: [.init(text: "", finishReason: Nullable(reason))],
                    usage: includeUsage ? Usage(promptTokens: prompt.count, completionTokens: count) : nil)
            }
        }
    }

    /// A whole reply: its text, finish reason and token count; a failed generation throws 500.
    static func collect(_ events: AsyncStream<GenerationEngine.Event>) async throws -> (String, String, Int) {
        var text = ""
        for await event in events {
            switch event {
            case .text(let piece): text += piece
            case .finished(let reason, let count, let error):
                if let error { throw ServeError(500, "generation failed: \(error)", type: "server_error") }
                return (text, reason ?? "stop", count)
            }
        }
        throw ServeError(500, "generation ended without a result", type: "server_error")
    }

    enum StreamEvent {
        case first
        case text(String)
        case finished(reason: String, completionTokens: Int)
    }

    /// One server-sent event carrying `value` as JSON.
    static func event(_ value: any Encodable) throws -> String {
        "data: " + String(decoding: try JSONEncoder().encode(value), as: UTF8.self) + "\n\n"
    }

    /// Server-sent events of chunks made already, then `data: [DONE]`.
    static func eventStream(_ chunks: [some Encodable]) throws -> Response {
        let text = try chunks.map(event).joined()
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(string: text + "data: [DONE]\n\n")))
    }

    /// Server-sent events: `data: {chunk}` per event, then `data: [DONE]`. A failed write (the client
    /// went away) ends the loop, which drops the stream and so cancels the generation.
    static func eventStream(_ events: AsyncStream<GenerationEngine.Event>, chunk: @escaping @Sendable (StreamEvent) -> (any Encodable)?)
        -> Response
    {
        let body = ResponseBody { writer in
            func send(_ event: StreamEvent) async throws {
                guard let value = chunk(event) else { return }
                try await writer.write(ByteBuffer(string: try Self.event(value)))
            }
            try await send(.first)
            for await event in events {
                switch event {
                case .text(let text): try await send(.text(text))
                case .finished(let reason, let count, let error):
                    if let error {
                        let failure = ServeError(500, "generation failed: \(error)", type: "server_error")
                        try await writer.write(ByteBuffer(string: try Self.event(failure)))
                    } else {
                        try await send(.finished(reason: reason ?? "stop", completionTokens: count))
                    }
                }
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// A JSON response of `value`.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
}

/// Every error as OpenAI's error JSON with its status; every answer counted by endpoint and status.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let maxBodyBytes: Int
    let metrics: ServerMetrics
    static let endpoints: Set<String> = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await respond(request, context: context, next: next)
        let path = request.uri.path
        metrics.request(endpoint: Self.endpoints.contains(path) ? path : "other", status: response.status.code)
        return response
    }

    func respond(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let error as ServeError {
            return try json(error, status: .init(code: error.status))
        } catch let error as any HTTPResponseError {
            let serve: ServeError =
                switch error.status {
                case .notFound: .notFound(request.uri.path)
                case .contentTooLarge: .tooLarge(maxBodyBytes)
                default: ServeError(error.status.code, "\(error)")
                }
            return try json(serve, status: error.status)
        } catch {
            return try json(ServeError(500, "\(error)", type: "server_error"), status: .internalServerError)
        }
    }
}

/// `Authorization: Bearer KEY` on every route but /health, where keys are set.
struct KeyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let keys: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !keys.isEmpty, request.uri.path != "/health" else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), keys.contains(String(header.dropFirst(7))) else { throw ServeError.unauthorized }
        return try await next(request, context)
    }
}
