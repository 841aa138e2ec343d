import CoppiceLLM
import Foundation

/// OpenAI's `tools` and `tool_choice` in the Llama 3.1/3.2 JSON tool-call format (Meta's zero-shot
/// prompt: the functions' JSON definitions and the answer format in the user turn, the reply a JSON
/// object `{"name": …, "parameters": {…}}`), and the reply back as OpenAI `tool_calls`.
public struct ToolCalling: Sendable {
    public struct Tool: Decodable, Sendable {
        public struct Function: Codable, Sendable {
            public var name: String, description: String?, parameters: OrderedJSON?
            public init(name: String, description: String? = nil, parameters: OrderedJSON? = nil) {
                (self.name, self.description, self.parameters) = (name, description, parameters)
            }
        }
        public var type = "function"
        public var function: Function
        public init(function: Function) { self.function = function }
    }

    /// `"none"`, `"auto"`, `"required"`, or `{"type": "function", "function": {"name": …}}`.
    public enum Choice: Decodable, Sendable {
        case none, auto, required, named(String)

        private struct Named: Decodable { struct Function: Decodable { var name: String }; var function: Function }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let word = try? c.decode(String.self) {
                switch word {
                case "none": self = .none
                case "auto": self = .auto
                case "required": self = .required
                default: throw DecodingError.dataCorruptedError(in: c, debugDescription: "tool_choice must be none, auto, required or a function")
                }
            } else {
                self = .named(try c.decode(Named.self).function.name)
            }
        }
    }

    /// The functions the model is offered (nil: none, the request runs as plain chat).
    public let functions: [Tool.Function]?
    public let required: Bool

    public init(tools: [Tool]?, choice: Choice?) throws(ServeError) {
        let functions = (tools ?? []).filter { $0.type == "function" }.map(\.function)
        switch choice ?? (functions.isEmpty ? .none : .auto) {
        case .none: (self.functions, required) = (nil, false)
        case .auto: (self.functions, required) = (functions.isEmpty ? nil : functions, false)
        case .required: (self.functions, required) = (functions, true)
        case .named(let name):
            guard let function = functions.first(where: { $0.name == name }) else {
                throw .badRequest("tool_choice names '\(name)', which is not among the tools")
            }
            (self.functions, required) = ([function], true)
        }
        if required && (self.functions ?? []).isEmpty { throw .badRequest("tool_choice requires a tool, but no function tools were given") }
    }

    /// The last user message with the functions and the answer format before it (Meta's prompt).
    public func userTurn(_ content: String) -> String {
        guard let functions else { return content }
        let definitions = functions.map { f in
            OrderedJSON.object([
                ("type", .string("function")),
                (
                    "function",
                    .object([("name", .string(f.name)), ("description", .string(f.description ?? "")), ("parameters", f.parameters ?? .object([]))])
                ),
            ]).text
        }
        let must = required ? " You must call one of them." : " If none of them fits, answer in plain text."
        return """
            Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.\(must)

            Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}. Do not use variables.

            \(definitions.joined(separator: "\n\n"))

            Question: \(content)
            """
    }

    /// Where a call is required (`tool_choice` `required` or a named function), the grammar that holds
    /// the reply to a call of one of the functions, its parameters to the function's schema (read in
    /// order from the request's JSON `body`), as vLLM and llama.cpp's server do; nil otherwise.
    func requiredCallGrammar(body: Data) -> ByteGrammar? {
        guard required, let functions else { return nil }
        let request = try? OrderedJSON(parsing: String(decoding: body, as: UTF8.self))
        var ordered: [String: OrderedJSON] = [:]
        if case .array(let tools) = request?["tools"] {
            for tool in tools {
                if case .string(let name) = tool["function"]?["name"], ordered[name] == nil { ordered[name] = tool["function"]?["parameters"] }
            }
        }
        return JSONGrammar.toolCall(functions.map { ($0.name, ordered[$0.name]) })
    }

    /// The reply as a tool call when it is one of the offered functions.
    public func call(in reply: String) -> (name: String, arguments: String)? {
        guard let functions, case .functionCall(let name, let arguments) = AssistantReply.parse(reply),
            functions.contains(where: { $0.name == name })
        else { return nil }
        return (name, arguments)
    }

    /// An earlier assistant turn that called tools, as the model writes such a turn.
    public static func turn(_ calls: [ToolCallMessage]) -> String {
        calls.map { call in
            let parameters = (try? OrderedJSON(parsing: call.function.arguments)) ?? .object([])
            return OrderedJSON.object([("name", .string(call.function.name)), ("parameters", parameters)]).text
        }.joined(separator: "; ")
    }
}

/// A tool call in OpenAI's shape (request history and responses).
public struct ToolCallMessage: Codable, Sendable {
    public struct Function: Codable, Sendable {
        public var name: String, arguments: String
        public init(name: String, arguments: String) { (self.name, self.arguments) = (name, arguments) }
    }
    public var id: String
    public var type = "function"
    public var function: Function
    public init(id: String, function: Function) { (self.id, self.function) = (id, function) }
}
