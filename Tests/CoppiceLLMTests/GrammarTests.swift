import CoppiceLLM
import Foundation
import Testing

/// JSON grammars for constrained decoding: what they accept and refuse, and replies drawn from random
/// logits through `GrammarConstraint` that are always valid JSON of the schema.
@Suite struct GrammarTests {
    static let schema = try! OrderedJSON(
        parsing: """
            {"type": "object", "properties": {
                "name": {"type": "string", "maxLength": 6},
                "age": {"type": "integer"},
                "tags": {"type": "array", "items": {"enum": ["a", "b", 3, null]}, "minItems": 1, "maxItems": 2},
                "ok": {"type": ["boolean", "null"]},
                "next": {"$ref": "#/$defs/node"}},
             "required": ["name", "tags"],
             "$defs": {"node": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}, "required": ["next"]}]}}}
            """)

    @Test func orderedJSONKeepsKeyOrderAndNamesTheFault() throws {
        let value = try OrderedJSON(parsing: #" {"b": 1, "a": [true, null, "x\u00e9\n"], "c": {"z": -2.5e1}} "#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "c"])
        #expect(value["a"] == .array([.bool(true), .null, .string("xé\n")]) && value["c"]?["z"] == .number(-25))
        #expect(value.text == #"{"b":1,"a":[true,null,"xé\n"],"c":{"z":-25}}"#)
        // Through Codable the values survive and objects come with sorted keys.
        let decoded = try JSONDecoder().decode(OrderedJSON.self, from: Data(value.text.utf8))
        #expect(decoded.text == #"{"a":[true,null,"xé\n"],"b":1,"c":{"z":-25}}"#)
        #expect(try JSONDecoder().decode(OrderedJSON.self, from: JSONEncoder().encode(value)) == decoded)
        for (bad, offset) in [(#"{"a" 1}"#, 5), ("[1,]", 3), ("{} x", 3), (#""open"#, 0)] {
            #expect(throws: OrderedJSON.ParseError.self) { try OrderedJSON(parsing: bad) }
            do { _ = try OrderedJSON(parsing: bad) } catch { #expect(error.offset == offset, "\(bad): \(error)") }
        }
    }

    @Test func anyObjectGrammarAcceptsJSONObjectsOnly() {
        let matcher = GrammarMatcher(grammar: JSONGrammar.object())
        for good in [
            "{}", #"{"a": 1}"#, "{\"a\": [1, -0.5e+3, \"x\\\"y\\u00e9\", {\"b\": null}],\n  \"c\": true}", #"{"é€😀": false}"#,
        ] {
            #expect(matcher.matches(good), "\(good)")
        }
        for bad in [
            "[1]", "{", #"{"a": 1,}"#, "{'a': 1}", #"{"a": 01}"#, "{\"a\": \"\u{01}\"}", #"{"a": 1} "#, #"{"a": .5}"#,
            #"{"a": "\x"}"#, " {}",
        ] {
            #expect(!matcher.matches(bad), "\(bad)")
        }
        // Malformed UTF-8 inside a string: an overlong form and a surrogate.
        for bytes: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80]] {
            #expect(matcher.advanced(by: Array(#"{"a": ""#.utf8) + bytes) == nil)
        }
    }

    @Test func schemaGrammarFollowsTheSchema() throws {
        let matcher = GrammarMatcher(grammar: try JSONGrammar.schema(Self.schema))
        for good in [
            #"{"name": "Al", "tags": ["a"]}"#, #"{"name":"","age":-12,"tags":[3,null],"ok":null,"next":{"next":null}}"#,
            #"{"name": "Bob", "tags": ["b"], "ok": true}"#,
        ] {
            #expect(matcher.matches(good), "\(good)")
        }
        for bad in [
            #"{"tags": ["a"], "name": "Al"}"#,  // out of the schema's order
            #"{"name": "Al"}"#,  // required tags missing
            #"{"name": "Alberta", "tags": ["a"]}"#,  // longer than maxLength
            #"{"name": "Al", "tags": []}"#, #"{"name": "Al", "tags": ["a", "b", "a"]}"#, #"{"name": "Al", "tags": ["c"]}"#,
            #"{"name": "Al", "age": 1.5, "tags": ["a"]}"#, #"{"name": "Al", "tags": ["a"], "other": 1}"#,
            #"{"name": "Al", "tags": ["a"], "next": {}}"#, #"{"name": "Al", "age": 12345678901234567, "tags": ["a"]}"#,
        ] {
            #expect(!matcher.matches(bad), "\(bad)")
        }
        // Every prefix of a sentence is a live state, and only the whole is complete.
        let sentence = Array(#"{"name":"","age":-12,"tags":[3,null],"ok":null,"next":{"next":null}}"#.utf8)
        var state = matcher
        for (i, byte) in sentence.enumerated() {
            #expect(!state.isComplete)
            state = try #require(state.advanced(by: byte), "refused at byte \(i)")
        }
        #expect(state.isComplete && !state.canContinue)
    }

    @Test func schemasBeyondTheSubsetAreRefusedByName() throws {
        for (schema, word) in [
            (#"{"type": "integer", "minimum": 0}"#, "minimum"), (#"{"type": "string", "pattern": "a+"}"#, "pattern"),
            (#"{"type": "thing"}"#, "thing"), (##"{"$ref": "#/$defs/missing"}"##, "missing"), (#"{"enum": []}"#, "enum"),
            (#"{"type": "array", "minItems": 3, "maxItems": 2}"#, "minItems"),
            (#"{"type": "object", "properties": {"a": {}}, "required": ["b"]}"#, "\"b\""),
        ] {
            do {
                _ = try JSONGrammar.schema(try OrderedJSON(parsing: schema))
                Issue.record("\(schema) was accepted")
            } catch { #expect("\(error)".contains(word), "\(error)") }
        }
    }

    /// A required tool call: one of the offered names, its parameters held to that function's schema,
    /// or any object where the schema is outside the subset.
    @Test func toolCallGrammarNamesAnOfferedFunction() throws {
        let weather = try OrderedJSON(parsing: #"{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}"#)
        let counted = try OrderedJSON(parsing: #"{"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}"#)
        let matcher = GrammarMatcher(grammar: JSONGrammar.toolCall([("get_weather", weather), ("count", counted), ("ping", nil)]))
        for good in [
            #"{"name": "get_weather", "parameters": {"city": "Paris"}}"#, #"{"name":"count","parameters":{"anything":[1]}}"#,
            #"{"name": "ping", "parameters": {}}"#,
        ] {
            #expect(matcher.matches(good), "\(good)")
        }
        for bad in [
            #"{"name": "launch", "parameters": {}}"#, #"{"name": "get_weather", "parameters": {}}"#,
            #"{"parameters": {"city": "Paris"}, "name": "get_weather"}"#, #"{"name": "ping"}"#, "It is sunny.",
        ] {
            #expect(!matcher.matches(bad), "\(bad)")
        }
    }

    /// Llama 3's tokenizer.json layout with a 500-token vocabulary, and its id count.
    static func tokenizer() throws -> (HuggingFaceTokenizer, size: Int) {
        let tokenizer = try HuggingFaceTokenizer(
            path: TokenizerTests.root.appendingPathComponent("Tests/CoppiceLLMTests/Fixtures/hf_tokenizer_llama3.json").path)
        return (tokenizer, max(tokenizer.vocabulary.values.max()!, tokenizer.addedTokens.values.max()!) + 1)
    }

    /// The trie's mask allows exactly the tokens `allows` does, in many states of a reply.
    @Test func maskEqualsTokenByTokenChecks() throws {
        let (tokenizer, size) = try Self.tokenizer()
        let vocabulary = TokenVocabulary(tokenizer: tokenizer)
        let constraint = GrammarConstraint(grammar: try JSONGrammar.schema(Self.schema), vocabulary: vocabulary)
        let logits = [Float](repeating: 1, count: size)
        for token in tokenizer.encode(#"{"name": "Al", "tags": ["b", 3], "next": {"next": null}}"#) {
            let masked = constraint.masked(logits)
            #expect((0..<size).filter { masked[$0] > -.infinity } == (0..<size).filter { constraint.allows($0) })
            #expect(constraint.allows(token))
            constraint.accept(token)
        }
        let end = try #require(tokenizer.stopTokens.first)
        let masked = constraint.masked(logits)
        #expect(constraint.allows(end) && masked.indices.filter { masked[$0] > -.infinity } == [end])
    }

    /// Random logits (a model that knows nothing) sampled through the constraint end in valid JSON of
    /// the schema every time; greedy picks the best allowed token.
    @Test(arguments: [0.0, 1.0] as [Float])
    func randomModelsWriteValidJSON(temperature: Float) throws {
        let (tokenizer, size) = try Self.tokenizer()
        let vocabulary = TokenVocabulary(tokenizer: tokenizer)
        let grammar = try JSONGrammar.schema(Self.schema)
        var random = SystemRandomNumberGenerator()
        for seed in 0..<20 {
            let constraint = GrammarConstraint(grammar: grammar, vocabulary: vocabulary)
            var sampler = Sampler(seed: UInt64(seed))
            (sampler.temperature, sampler.topP) = (temperature, 1)
            var tokens: [Int] = []
            while tokens.count < 400 {
                // Stop tokens get a high logit, so the constraint must hold them back until the end.
                var logits = (0..<size).map { _ in Float.random(in: -4...4, using: &random) }
                for stop in tokenizer.stopTokens { logits[stop] = 6 }
                let token = try #require(constraint.next(logits, sampler: &sampler, history: tokens))
                if temperature == 0 {
                    let masked = constraint.masked(logits)
                    #expect(logits[token] == masked.max(), "greedy took a token that is not the best allowed")
                }
                constraint.accept(token)
                if tokenizer.stopTokens.contains(token) { break }
                tokens.append(token)
            }
            let text = tokenizer.decode(tokens)
            #expect(GrammarMatcher(grammar: grammar).matches(text), "seed \(seed): \(text)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "seed \(seed): \(text)")
            #expect(object["name"] is String && object["tags"] is [Any], "\(text)")
        }
    }
}
