import CoppiceFormats
import CoppiceLLM
import Foundation
import Testing

/// The library halves of `coppice generate`, `chat` and `bench llm-model`.
@Suite struct RuntimeToolsTests {
    @Test func textStreamHoldsBackPartialCharacters() {
        let tokenizer = TokenizerTests.tokenizer
        let text = "naïve 🙂 café 龘𝄞"
        let ids = tokenizer.encode(text)
        #expect(
            ids.contains { String(validating: tokenizer.bytes([$0]), as: UTF8.self) == nil },
            "some token carries part of a character, so the stream has to hold bytes back")
        var stream = TokenTextStream(tokenizer: tokenizer)
        let pieces = ids.map { stream.append($0) }
        #expect(pieces.joined() == text)
        #expect(pieces.contains(""), "a partial character prints nothing until it is whole")
        #expect(stream.append(tokenizer.endOfTurn).isEmpty, "stop tokens print nothing")
    }

    @Test func presetsHaveTheirPublishedShapes() {
        let small = LlamaConfiguration.Preset.llama57M.configuration
        #expect(
            (small.hiddenSize, small.layers, small.heads, small.kvHeads, small.intermediateSize, small.vocabularySize) == (512, 8, 8, 2, 1536, 32_000)
        )
        let oneB = LlamaConfiguration.Preset.llama32_1B.configuration
        #expect(
            (oneB.hiddenSize, oneB.layers, oneB.kvHeads, oneB.intermediateSize, oneB.vocabularySize, oneB.tieWordEmbeddings) == (
                2048, 16, 8, 8192, 128_256, true
            ))
    }

    @Test func ggufTypesGoByLlamaCppsNames() {
        #expect(
            GGUFTensorType.allCases.map(\.name) == ["f32", "f16", "q4_0", "q8_0", "bf16", "q4_1", "q5_0", "q5_1", "q4_K", "q5_K", "q6_K"])
        for type in GGUFTensorType.allCases { #expect(GGUFTensorType(name: type.name) == type) }
        #expect(GGUFTensorType(name: "q2_K") == nil)
    }

    @Test func loadingRefusesBlockTypesOnOddWidths() throws {
        #expect(throws: (any Error).self) {
            try LlamaRuntime.load(model: "/nonexistent", tokenizer: TokenizerTests.root.appendingPathComponent(".data/llama3/tokenizer.model").path)
        }
    }
}
