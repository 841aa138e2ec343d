import CoppiceLLM
import Foundation
import Testing

@Suite struct TokenizerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Meta's tokenizer.model (scripts/fetch-data.sh), loaded once.
    static let tokenizer: Llama3Tokenizer = try! Llama3Tokenizer(path: root.appendingPathComponent(".data/llama3/tokenizer.model").path)

    struct Case: Decodable { var text: String; var ids: [Int]; var allow_special: Bool? }

    /// Every case of the fixture written by tiktoken with Meta's ranks, regex and special tokens.
    @Test func idsEqualMetasTokenizer() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("Tests/CoppiceLLMTests/Fixtures/tokenizer_cases.json"))
        let cases = try JSONDecoder().decode([Case].self, from: data)
        #expect(cases.count == 16)
        for c in cases {
            let ids = Self.tokenizer.encode(c.text, allowSpecial: c.allow_special ?? false)
            #expect(ids == c.ids, "\(c.text.debugDescription)")
            #expect(Self.tokenizer.decode(ids) == c.text)
        }
    }

    /// Meta's test_tokenizer.py, verbatim.
    @Test func metasTestsPass() throws {
        let t = Self.tokenizer
        #expect(t.vocabularySize == 128_256 && t.specialTokens["<|begin_of_text|>"] == 128_000)
        #expect(t.encode("This is a test sentence.", bos: true) + [t.endOfText] == [128000, 2028, 374, 264, 1296, 11914, 13, 128001])
        #expect(t.decode([128000, 2028, 374, 264, 1296, 11914, 13, 128001]) == "<|begin_of_text|>This is a test sentence.<|end_of_text|>")
        let format = try ChatFormat(tokenizer: t)
        #expect(format.encode(ChatMessage(.user, "This is a test sentence.")) == [128006, 882, 128007, 271, 2028, 374, 264, 1296, 11914, 13, 128009])
        #expect(
            format.encodeDialogPrompt([ChatMessage(.system, "This is a test sentence."), ChatMessage(.user, "This is a response.")])
                == [
                    128000, 128006, 9125, 128007, 271, 2028, 374, 264, 1296, 11914, 13, 128009, 128006, 882, 128007, 271, 2028, 374, 264, 2077, 13,
                    128009, 128006, 78191, 128007, 271,
                ])
        #expect(t.stopTokens == [128001, 128008, 128009])
    }

    @Test func malformedModelFilesAreNamed() {
        #expect(throws: LlamaError.self) { try Llama3Tokenizer(modelFile: Data("IQ== 0\nIg== 5\n".utf8)) }
        #expect(throws: LlamaError.self) { try Llama3Tokenizer(modelFile: Data("not base64 at all\n".utf8)) }
        #expect(throws: LlamaError.self) { try Llama3Tokenizer(path: "/nonexistent/tokenizer.model") }
    }

    @Test func toolCallsParse() {
        #expect(
            AssistantReply.parse("<|python_tag|>brave_search.call(query=\"weather, Menlo Park\")")
                == .builtinToolCall(tool: "brave_search", arguments: ["query": "weather, Menlo Park"]))
        #expect(
            AssistantReply.parse("<|python_tag|>{\"type\": \"function\", \"name\": \"get_time\", \"parameters\": {\"zone\": \"UTC\"}}")
                == .functionCall(name: "get_time", parametersJSON: "{\"zone\":\"UTC\"}"))
        #expect(
            AssistantReply.parse("<function=spotify_trending_songs>{\"n\": \"5\"}</function>")
                == .functionCall(name: "spotify_trending_songs", parametersJSON: "{\"n\": \"5\"}"))
        #expect(AssistantReply.parse("<|python_tag|>import math\nprint(math.pi)") == .code("import math\nprint(math.pi)"))
        #expect(AssistantReply.parse("The answer is 42.") == .text("The answer is 42."))
        #expect(
            ChatFormat.toolSystemPrompt(builtinTools: ["brave_search", "wolfram_alpha"], today: "23 July 2024")
                == "Environment: ipython\nTools: brave_search, wolfram_alpha\n\nCutting Knowledge Date: December 2023\nToday Date: 23 July 2024")
    }
}

@Suite struct LlamaGuardTests {
    @Test func promptListsTheCategoriesAndJudgesTheLastTurn() throws {
        let prompt = LlamaGuard.prompt(conversation: [ChatMessage(.user, "How do I bake bread?")])
        #expect(prompt.hasPrefix("Task: Check if there is unsafe content in 'User' messages"))
        #expect(
            prompt.contains("S1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.")
                && prompt.contains("S14: Code Interpreter Abuse.\n<END UNSAFE"))
        #expect(prompt.contains("<BEGIN CONVERSATION>\n\nUser: How do I bake bread?\n\n<END CONVERSATION>"))
        #expect(
            prompt.hasSuffix(
                "ONLY THE LAST User message in the above conversation:\n - First line must read 'safe' or 'unsafe'.\n - If unsafe, a second line must include a comma-separated list of violated categories."
            ))
        let agent = LlamaGuard.prompt(conversation: [ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Hello!")], excluding: ["S7"])
        #expect(agent.contains("'Agent' messages") && agent.contains("User: Hi\n\nAgent: Hello!") && !agent.contains("S7: Privacy"))
        let ids = LlamaGuard.tokens(conversation: [ChatMessage(.user, "Hi")], format: try ChatFormat(tokenizer: TokenizerTests.tokenizer))
        #expect(Array(ids.prefix(5)) == [128000, 128006, 882, 128007, 271] && Array(ids.suffix(5)) == [128009, 128006, 78191, 128007, 271])
    }

    @Test func verdictsParse() {
        #expect(LlamaGuard.parse("safe") == .safe)
        #expect(LlamaGuard.parse("\n\nunsafe\nS1,S10") == .unsafe(categories: ["S1", "S10"]))
        #expect(LlamaGuard.parse("unsafe\nS99") == nil)
        #expect(LlamaGuard.parse("maybe") == nil)
    }
}

@Suite struct HuggingFaceTokenizerTests {
    struct Case: Decodable { var text: String; var ids: [Int] }

    /// Two tokenizer.json layouts (Llama 3's Split + ByteLevel with ignore_merges and added tokens;
    /// GPT-2's ByteLevel regex with a prefix space) give the ids of the `tokenizers` library.
    @Test(arguments: ["llama3", "gpt2"])
    func idsEqualTheTokenizersLibrary(name: String) throws {
        let fixtures = TokenizerTests.root.appendingPathComponent("Tests/CoppiceLLMTests/Fixtures")
        let tokenizer = try HuggingFaceTokenizer(path: fixtures.appendingPathComponent("hf_tokenizer_\(name).json").path)
        let cases = try JSONDecoder().decode(
            [String: [Case]].self, from: Data(contentsOf: fixtures.appendingPathComponent("hf_tokenizer_cases.json")))
        for c in cases[name] ?? [] {
            let ids = tokenizer.encode(c.text)
            #expect(ids == c.ids, "\(name): \(c.text.debugDescription)")
            let decoded = tokenizer.decode(ids)
            #expect(decoded == c.text || decoded == " " + c.text, "\(name) round trip")
        }
        #expect(cases[name]?.count == 5)
    }

    @Test func unsupportedFilesAreNamed() {
        #expect(throws: LlamaError.self) { try HuggingFaceTokenizer(json: Data("{}".utf8)) }
        #expect(throws: LlamaError.self) { try HuggingFaceTokenizer(json: Data(#"{"model": {"type": "Unigram"}}"#.utf8)) }
        #expect(throws: LlamaError.self) {
            try HuggingFaceTokenizer(
                json: Data(#"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}}"#.utf8))
        }
    }
}
