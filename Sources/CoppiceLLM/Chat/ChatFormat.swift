import Foundation

/// Conversations as token ids in the tokenizer's chat template: Llama 3's headers and end-of-turn
/// tokens, or ChatML's `<|im_start|>role\n … <|im_end|>\n` turns. Special tokens are added as ids and
/// the text between them encoded on its own, as llama.cpp tokenizes a rendered template.
public struct ChatFormat: Sendable {
    public let tokenizer: any TextTokenizer
    private let markers: [String: Int]

    /// Fails when the tokenizer lacks the special tokens its template writes.
    public init(tokenizer: any TextTokenizer) throws(LlamaError) {
        self.tokenizer = tokenizer
        let names =
            switch tokenizer.chatTemplate {
            case .llama3: ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"]
            case .chatML: ["<|im_start|>", "<|im_end|>"]
            }
        var markers: [String: Int] = [:]
        for name in names {
            guard let id = tokenizer.specialToken(name) else {
                throw .invalidInput("the tokenizer has no \(name) token, which its chat template (\(tokenizer.chatTemplate)) needs")
            }
            markers[name] = id
        }
        self.markers = markers
    }

    public func header(_ role: ChatMessage.Role) -> [Int] {
        switch tokenizer.chatTemplate {
        case .llama3:
            [markers["<|start_header_id|>"]!] + tokenizer.encode(role.rawValue) + [markers["<|end_header_id|>"]!] + tokenizer.encode("\n\n")
        case .chatML: [markers["<|im_start|>"]!] + tokenizer.encode(role.rawValue + "\n")
        }
    }

    public func encode(_ message: ChatMessage) -> [Int] {
        var ids = header(message.role)
        switch tokenizer.chatTemplate {
        case .llama3:
            if message.isToolCall { ids.append(markers["<|python_tag|>"]!) }
            ids += tokenizer.encode(message.content)
            ids.append(markers[message.isToolCall ? "<|eom_id|>" : "<|eot_id|>"]!)
        case .chatML:
            ids += tokenizer.encode(message.content) + [markers["<|im_end|>"]!] + tokenizer.encode("\n")
        }
        return ids
    }

    /// What precedes the first message: BOS where the model takes one, then the system turn, or the
    /// template's default system turn when there is none.
    public func opening(system: String?) -> [Int] {
        var ids = tokenizer.encode("", bos: true)
        if case .chatML(let defaultSystem) = tokenizer.chatTemplate, system == nil, let defaultSystem {
            ids += encode(ChatMessage(.system, defaultSystem))
        }
        return ids + (system.map { encode(ChatMessage(.system, $0)) } ?? [])
    }

    /// The opening, every message, then the assistant header the model continues from.
    public func encodeDialogPrompt(_ messages: [ChatMessage]) -> [Int] {
        let system = messages.first?.role == .system ? messages.first : nil
        return opening(system: system?.content) + messages.dropFirst(system == nil ? 0 : 1).flatMap(encode) + header(.assistant)
    }

    /// The tokens that close an assistant turn which ended with `reply` and is in the cache but for
    /// its last token: that token, an end of turn if the reply was cut short, ChatML's newline.
    public func closing(reply: [Int]) -> [Int] {
        let end = markers[tokenizer.chatTemplate == .llama3 ? "<|eot_id|>" : "<|im_end|>"]!
        let last = reply.last ?? end
        var ids = [last] + (tokenizer.stopTokens.contains(last) ? [] : [end])
        if case .chatML = tokenizer.chatTemplate { ids += tokenizer.encode("\n") }
        return ids
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
