import Foundation

/// The response bodies of the OpenAI API that `coppice serve` writes (snake_case keys).
struct Usage: Encodable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int { promptTokens + completionTokens }

    enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens" }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
    }
}

/// A field OpenAI always writes, as `null` when it has no value (synthesized encoding leaves nil
/// optionals out): `finish_reason` before the last chunk, `content` beside tool calls.
struct Nullable<Wrapped: Encodable>: Encodable, ExpressibleByNilLiteral {
    var value: Wrapped?

    init(_ value: Wrapped?) { self.value = value }
    init(nilLiteral: ()) { value = nil }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}

struct AssistantMessage: Encodable {
    var role = "assistant"
    var content: Nullable<String>
    var toolCalls: [ToolCallMessage]?

    enum CodingKeys: String, CodingKey { case role, content, toolCalls = "tool_calls" }
}

struct ChatCompletion: Encodable {
    struct Choice: Encodable {
        var index = 0
        var message: AssistantMessage
        var finishReason: String
        enum CodingKeys: String, CodingKey { case index, message, finishReason = "finish_reason" }
    }
    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage
}

struct ChatCompletionChunk: Encodable {
    struct Delta: Encodable {
        /// A streamed tool call: OpenAI's call with its index among the turn's calls.
        struct ToolCall: Encodable {
            var index = 0
            var id: String
            var type = "function"
            var function: ToolCallMessage.Function
        }
        var role: String?
        var content: String?
        var toolCalls: [ToolCall]?
        enum CodingKeys: String, CodingKey { case role, content, toolCalls = "tool_calls" }
    }
    struct Choice: Encodable {
        var index = 0
        var delta: Delta
        var finishReason: Nullable<String> = nil
        enum CodingKeys: String, CodingKey { case index, delta, finishReason = "finish_reason" }
    }
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?
}

struct TextCompletion: Encodable {
    struct Choice: Encodable {
        var index = 0
        var text: String
        var finishReason: Nullable<String> = nil
        enum CodingKeys: String, CodingKey { case index, text, finishReason = "finish_reason" }
    }
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?
}

struct ModelList: Encodable {
    struct Model: Encodable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "coppice"
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
    }
    var object = "list"
    var data: [Model]
}

/// An OpenAI-shaped error: `{"error": {"message", "type", "param", "code"}}` with its HTTP status.
public struct ServeError: Error, Encodable, CustomStringConvertible {
    public let status: Int
    public let message: String
    public let type: String
    public let code: String?

    init(_ status: Int, _ message: String, type: String = "invalid_request_error", code: String? = nil) {
        (self.status, self.message, self.type, self.code) = (status, message, type, code)
    }

    public var description: String { "\(status) \(type): \(message)" }

    static func badRequest(_ message: String) -> ServeError { .init(400, message) }
    static let unauthorized = ServeError(
        401, "invalid or missing API key (Authorization: Bearer KEY)", type: "authentication_error", code: "invalid_api_key")
    static func notFound(_ path: String) -> ServeError { .init(404, "no route \(path)", code: "not_found") }
    static func tooLarge(_ limit: Int) -> ServeError { .init(413, "the request body exceeds \(limit) bytes", code: "request_too_large") }
    static func busy(_ message: String) -> ServeError { .init(429, message, type: "rate_limit_error", code: "queue_full") }

    enum Outer: String, CodingKey { case error }
    enum Inner: String, CodingKey { case message, type, param, code }

    public func encode(to encoder: any Encoder) throws {
        var outer = encoder.container(keyedBy: Outer.self)
        var inner = outer.nestedContainer(keyedBy: Inner.self, forKey: .error)
        try inner.encode(message, forKey: .message)
        try inner.encode(type, forKey: .type)
        try inner.encodeNil(forKey: .param)
        try inner.encode(code, forKey: .code)
    }
}
