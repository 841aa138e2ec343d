import Foundation

/// What the assistant's generated tokens mean, read as the Llama 3.1/3.2 tool formats define them.
public enum AssistantReply: Equatable, Sendable {
    /// Plain text ending the turn.
    case text(String)
    /// A built-in tool: `<|python_tag|>brave_search.call(query="…")`.
    case builtinToolCall(tool: String, arguments: [String: String])
    /// Code for the interpreter: `<|python_tag|>` followed by code.
    case code(String)
    /// A JSON function call `{"type": "function", "name": …, "parameters": {…}}` (with or without the
    /// python tag), or `<function=NAME>{…}</function>`.
    case functionCall(name: String, parametersJSON: String)

    /// Parses the decoded reply (special tokens removed except a leading `<|python_tag|>`).
    public static func parse(_ text: String) -> AssistantReply {
        let pythonTag = "<|python_tag|>"
        var body = text
        let tagged = body.hasPrefix(pythonTag)
        if tagged { body.removeFirst(pythonTag.count) }
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if let call = functionTag(trimmed) ?? jsonFunction(trimmed) { return call }
        if tagged {
            if let builtin = builtinCall(trimmed) { return builtin }
            return .code(body)
        }
        return .text(body)
    }

    static func jsonFunction(_ text: String) -> AssistantReply? {
        guard text.hasPrefix("{"), let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            let name = object["name"] as? String
        else { return nil }
        let parameters = object["parameters"] ?? object["arguments"] ?? [String: Any]()
        let json =
            (try? JSONSerialization.data(withJSONObject: parameters, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return .functionCall(name: name, parametersJSON: json)
    }

    static func functionTag(_ text: String) -> AssistantReply? {
        guard text.hasPrefix("<function="), let close = text.range(of: ">"), text.hasSuffix("</function>") else { return nil }
        let name = String(text[text.index(text.startIndex, offsetBy: 10)..<close.lowerBound])
        let arguments = String(text[close.upperBound..<text.index(text.endIndex, offsetBy: -11)])
        return .functionCall(name: name, parametersJSON: arguments)
    }

    /// `tool.call(key="value", other=3)`; values are kept as written, quotes removed.
    static func builtinCall(_ text: String) -> AssistantReply? {
        guard let dot = text.range(of: ".call("), text.hasSuffix(")") else { return nil }
        let tool = String(text[..<dot.lowerBound])
        guard !tool.isEmpty, tool.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        let inside = text[dot.upperBound..<text.index(before: text.endIndex)]
        var arguments: [String: String] = [:]
        for pair in splitArguments(String(inside)) {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let key = pair[..<equals].trimmingCharacters(in: .whitespaces)
            var value = pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, (q == "\"" || q == "'"), value.last == q { value = String(value.dropFirst().dropLast()) }
            arguments[key] = value
        }
        return .builtinToolCall(tool: tool, arguments: arguments)
    }

    /// Commas outside quotes separate arguments.
    static func splitArguments(_ text: String) -> [String] {
        var parts: [String] = [], current = "", quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "," {
                parts.append(current)
                current = ""
                continue
            }
            current.append(c)
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { parts.append(current) }
        return parts
    }
}
