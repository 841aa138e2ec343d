/// The chat formats Coppice writes prompts in. A GGUF file names its format as a Jinja template
/// (`tokenizer.chat_template`); as llama.cpp does, the template is recognised by its markers rather
/// than interpreted.
public enum ChatTemplate: Sendable, Equatable {
    /// Llama 3: `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`, after `<|begin_of_text|>`.
    case llama3
    /// ChatML (SmolLM2, Qwen, …): `<|im_start|>role\ncontent<|im_end|>\n`; `defaultSystem` is the system
    /// turn the template adds when a conversation has none.
    case chatML(defaultSystem: String?)

    /// The format of a Jinja chat template; nil when it is neither.
    public init?(jinja template: String) {
        if template.contains("<|start_header_id|>") {
            self = .llama3
        } else if template.contains("<|im_start|>") {
            // SmolLM2's: {% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n…<|im_end|>\n' }}{% endif %}
            // (the newline written as is or escaped).
            var system: String?
            if template.contains("messages[0]['role'] != 'system'"), let start = template.range(of: "'<|im_start|>system"),
                let end = template[start.upperBound...].range(of: "<|im_end|>")
            {
                let text = template[start.upperBound..<end.lowerBound]
                system = text.hasPrefix("\\n") ? String(text.dropFirst(2)) : text.hasPrefix("\n") ? String(text.dropFirst()) : nil
            }
            self = .chatML(defaultSystem: system)
        } else {
            return nil
        }
    }
}
