import Foundation

public struct ChatFormat: Sendable {
    public let tokenizer: Llama3Tokenizer

    public init(tokenizer: Llama3Tokenizer) { self.tokenizer = tokenizer }

    public func header(_ role: ChatMessage.Role) -> [Int] {
        [tokenizer.specialTokens["<|start_header_id|>"]!] + tokenizer.encode(role.rawValue)
            + [tokenizer.specialTokens["<|end_header_id|>"]!] + tokenizer.encode("\n\n")
    }

    public func encode(_ message: ChatMessage) -> [Int] {
        var ids = header(message.role)
        if message.isToolCall { ids.append(tokenizer.pythonTag) }
        ids += tokenizer.encode(message.content)
        ids.append(message.isToolCall ? tokenizer.endOfMessage : tokenizer.endOfTurn)
        return ids
    }

    /// BOS, every message, then the assistant header the model continues from.
    public func encodeDialogPrompt(_ messages: [ChatMessage]) -> [Int] {
        [tokenizer.beginOfText] + messages.flatMap(encode) + header(.assistant)
    }

    /// The system message that enables Llama 3.1's built-in tools (`Environment: ipython`, optional
    /// `Tools: brave_search, wolfram_alpha`) with the knowledge and today's dates.
    public static func toolSystemPrompt(builtinTools: [String], today: String, extra: String = "") -> String {
        var lines = ["Environment: ipython"]
        if !builtinTools.isEmpty { lines.append("Tools: " + builtinTools.joined(separator: ", ")) }
        lines += ["", "Cutting Knowledge Date: December 2023", "Today Date: \(today)"]
        if !extra.isEmpty { lines += ["", extra] }
        return lines.joined(separator: "\n")
    }
}
