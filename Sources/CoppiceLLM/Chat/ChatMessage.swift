import Foundation

/// The Llama 3 chat format (papers.md §4.5): each message is a header (`<|start_header_id|>` role
/// `<|end_header_id|>` "\n\n"), its content, and `<|eot_id|>` — or `<|eom_id|>` when the assistant
/// stopped to call a tool; a dialog prompt is BOS, the messages and an open assistant header.
/// Roles: system, user, assistant and ipython (tool output).
public struct ChatMessage: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable, CaseIterable { case system, user, assistant, ipython }
    public var role: Role
    public var content: String
    /// For assistant messages: the content is a tool call (`<|python_tag|>` … `<|eom_id|>`).
    public var isToolCall: Bool

    public init(_ role: Role, _ content: String, isToolCall: Bool = false) {
        self.role = role
        self.content = content
        self.isToolCall = isToolCall
    }
}
