import CoppiceFormats
import CoppiceLLM
import CoppiceServe
import Foundation
import Testing

/// The pieces of `coppice serve` between the model and the HTTP bodies: OpenAI tools in Llama 3.1's
/// JSON tool-call format and back, and generated tokens as text with stop strings cut.
@Suite struct ServeProtocolTests {
    static let weather = ToolCalling.Tool(
        function: .init(
            name: "get_weather", description: "The weather in a city",
            parameters: .object([("type", .string("object")), ("properties", .object([("city", .object([("type", .string("string"))]))]))])))

    @Test func toolsGoIntoTheUserTurnAndCallsComeBack() throws {
        let tools = try ToolCalling(tools: [Self.weather], choice: nil)
        let turn = tools.userTurn("Is it raining in Paris?")
        #expect(turn.hasSuffix("Question: Is it raining in Paris?") && turn.contains(#""name":"get_weather""#) && turn.contains(#""parameters":"#))
        let call = try #require(tools.call(in: #"{"name": "get_weather", "parameters": {"city": "Paris"}}"#))
        #expect(call.name == "get_weather" && call.arguments == #"{"city":"Paris"}"#)
        #expect(tools.call(in: "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {}}")?.name == "get_weather")
        #expect(tools.call(in: #"{"name": "launch_rocket", "parameters": {}}"#) == nil, "only the offered functions")
        #expect(tools.call(in: "It is sunny.") == nil)
        // An earlier call in the history, as the model writes it.
        let history = ToolCalling.turn([ToolCallMessage(id: "call_1", function: .init(name: "get_weather", arguments: #"{"city": "Paris"}"#))])
        #expect(history == #"{"name":"get_weather","parameters":{"city":"Paris"}}"#)
    }

    @Test func toolChoiceRules() throws {
        #expect(try ToolCalling(tools: [Self.weather], choice: ToolCalling.Choice.none).functions == nil)
        #expect(try ToolCalling(tools: nil, choice: nil).userTurn("hi") == "hi", "no tools: the turn as it is")
        #expect(try ToolCalling(tools: [Self.weather], choice: .required).userTurn("x").contains("You must call one of them."))
        #expect(throws: ServeError.self) { try ToolCalling(tools: [], choice: .required) }
        #expect(throws: ServeError.self) { try ToolCalling(tools: [Self.weather], choice: .named("other")) }
        let choice = try JSONDecoder().decode(ToolCalling.Choice.self, from: Data(#"{"type": "function", "function": {"name": "get_weather"}}"#.utf8))
        #expect(try ToolCalling(tools: [Self.weather], choice: choice).functions?.map(\.name) == ["get_weather"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ToolCalling.Choice.self, from: Data(#""sometimes""#.utf8)) }
    }

    /// Text goes out as it is decoded, except what could still be the start of a stop string; a stop
    /// string found ends the reply before it, even across tokens.
    @Test func stopStringsAreCutAcrossTokens() throws {
        let file = try GGUFFile(path: ServeTests.model)
        let tokenizer = try HuggingFaceTokenizer(gguf: file.metadata, name: "smollm2")
        let tokens = tokenizer.encode("The answer is 42. The end")
        let pieces = TextPieces(tokenizer: tokenizer, stop: [". The"])
        var out = "", stopped = false
        for token in tokens where !stopped {
            let (text, hit) = pieces.append(token)
            (out, stopped) = (out + text, hit)
        }
        #expect(stopped && out == "The answer is 42", "\(out)")
        let plain = TextPieces(tokenizer: tokenizer, stop: ["zzz"])
        let all = tokens.map { plain.append($0).text }.joined() + plain.flush()
        #expect(all == "The answer is 42. The end")
    }
}
