import Foundation

/// The request bodies of the OpenAI API's chat and text completions, as far as `coppice serve` reads
/// them. Unknown fields are ignored, as OpenAI-compatible servers do.
struct ChatCompletionRequest: Decodable {
    struct Message: Decodable {
        var role: String
        /// A string, or an array of text parts (`[{"type": "text", "text": …}]`); null for an assistant
        /// turn that only called tools.
        var content: MessageContent?
        var name: String?
        /// An assistant turn's calls (OpenAI `tool_calls`).
        var toolCalls: [ToolCallMessage]?

        enum CodingKeys: String, CodingKey { case role, content, name, toolCalls = "tool_calls" }
    }

    var model: String?
    var messages: [Message]
    var tools: [ToolCalling.Tool]?
    var toolChoice: ToolCalling.Choice?
    var responseFormat: ResponseFormat?
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey { case model, messages, tools, toolChoice = "tool_choice", responseFormat = "response_format" }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        messages = try container.decode([Message].self, forKey: .messages)
        tools = try container.decodeIfPresent([ToolCalling.Tool].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(ToolCalling.Choice.self, forKey: .toolChoice)
        responseFormat = try container.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        sampling = try SamplingFields(from: decoder)
    }
}

struct CompletionRequest: Decodable {
    var model: String?
    /// A string or an array of one string.
    var prompt: MessageContent
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey { case model, prompt }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        prompt = try container.decode(MessageContent.self, forKey: .prompt)
        sampling = try SamplingFields(from: decoder)
    }
}

/// Text given as a string or as an array (of strings, or of `{"type": "text", "text": …}` parts).
struct MessageContent: Decodable {
    var text: String

    private struct Part: Decodable { var type: String?, text: String? }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let strings = try? container.decode([String].self) {
            guard strings.count == 1 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "one prompt per request, got \(strings.count)")
            }
            text = strings[0]
        } else {
            let parts = try container.decode([Part].self)
            text = parts.compactMap { $0.type == nil || $0.type == "text" ? $0.text : nil }.joined()
        }
    }
}

/// The sampling and limit fields both endpoints share.
struct SamplingFields: Decodable {
    var temperature: Float?
    var topP: Float?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var stop: [String]
    var seed: UInt64?
    var n: Int?
    var stream: Bool
    var presencePenalty: Float?
    var frequencyPenalty: Float?
    var streamOptions: StreamOptions?

    struct StreamOptions: Decodable { var includeUsage: Bool? }

    enum CodingKeys: String, CodingKey {
        case temperature, n, stop, seed, stream
        case topP = "top_p", maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens"
        case presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty", streamOptions = "stream_options"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Float.self, forKey: .topP)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        maxCompletionTokens = try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        if let one = try? c.decodeIfPresent(String.self, forKey: .stop) {
            stop = [one]
        } else {
            stop = try c.decodeIfPresent([String].self, forKey: .stop) ?? []
        }
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        presencePenalty = try c.decodeIfPresent(Float.self, forKey: .presencePenalty)
        frequencyPenalty = try c.decodeIfPresent(Float.self, forKey: .frequencyPenalty)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
    }
}

extension SamplingFields.StreamOptions {
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}
