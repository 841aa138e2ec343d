import CoppiceData
import CoppiceFormats
import CoppiceLLM
import CoppiceRec
import CoppiceSparsity
import CoppiceVision
import Foundation

/// Every reader of outside bytes, as a function of those bytes: what `Fuzz/` (libFuzzer, with address
/// sanitizer) drives and what the test suite replays over the seeds and the inputs fuzzing once
/// crashed on (`Tests/CoppiceCLITests/FuzzRegressions/<target>/`). A target returns when the reader
/// accepts or throws; anything else (a trap, an over-read, a hang) is the bug fuzzing looks for.
public struct FuzzTarget: Sendable {
    public let name: String
    /// What the target reads (`coppice-fuzz` without arguments lists it).
    public let reads: String
    let body: @Sendable (Data) -> Bool

    /// Runs the reader(s) on `bytes`; whether one accepted them.
    @discardableResult public func callAsFunction(_ bytes: Data) -> Bool { body(bytes) }

    /// Readers that take a path get `bytes` through this file (one per process and target).
    static func file(_ target: String, _ bytes: Data) -> String {
        let path = NSTemporaryDirectory() + "coppice-fuzz-\(getpid())-\(target)"
        try? bytes.write(to: URL(fileURLWithPath: path))  // in place: an atomic write costs a rename per input
        return path
    }

    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "safetensors", reads: "safetensors header and tensors; Coppice's CSR tensors in it") { bytes in
            let path = file("safetensors", bytes)
            guard (try? SafetensorsFile(path: path).tensors()) != nil else { return false }
            _ = try? SparseStorage.read(path)
            return true
        },
        FuzzTarget(name: "gguf", reads: "GGUF header, metadata, tensor infos and data (every block type); the Llama model and tokenizer in it") {
            bytes in
            let path = file("gguf", bytes)
            guard let gguf = try? GGUFFile(path: path) else { return false }
            for name in gguf.tensorOrder { _ = try? gguf.tensor(name) }
            _ = try? LlamaGGUF.load(path: path, maxSequence: 8)
            if let tokenizer = try? HuggingFaceTokenizer(gguf: gguf.metadata, name: path) {
                _ = tokenizer.decode(tokenizer.encode("Hi <|im_start|>12 ", allowSpecial: true))
            }
            return true
        },
        FuzzTarget(name: "idx", reads: "idx files, plain and gzip") { bytes in
            (try? IDX.read(file("idx", bytes))) != nil
        },
        FuzzTarget(name: "criteo-text", reads: "Criteo TSV/CSV lines") { bytes in
            (try? CriteoReader(tableSize: 1000).read(path: file("criteo-text", bytes)))?.errors.isEmpty == true
        },
        FuzzTarget(name: "criteo-cache", reads: "Coppice's binary Criteo cache") { bytes in
            (try? CriteoCache.read(from: file("criteo-cache", bytes))) != nil
        },
        FuzzTarget(name: "recipes", reads: "pruning, spatial-Winograd and AMGP recipes (JSON)") { bytes in
            let path = file("recipes", bytes)
            let readers = [
                (try? PruningRecipe.decode(bytes)) != nil, (try? SpatialWinogradRecipe.load(from: path)) != nil,
                (try? AMGPRecipe.load(from: path)) != nil,
            ]
            return readers.contains(true)
        },
        FuzzTarget(name: "llama-config", reads: "Hugging Face config.json and Meta params.json") { bytes in
            let readers = [(try? LlamaConfiguration.huggingFace(bytes)) != nil, (try? LlamaConfiguration.meta(bytes)) != nil]
            return readers.contains(true)
        },
        FuzzTarget(name: "tokenizer-json", reads: "Hugging Face tokenizer.json, then an encode/decode") { bytes in
            guard let tokenizer = try? HuggingFaceTokenizer(json: bytes) else { return false }
            _ = tokenizer.decode(tokenizer.encode("Hello, wörld! 123"))
            return true
        },
        FuzzTarget(name: "tokenizer-model", reads: "tiktoken tokenizer.model, then an encode/decode") { bytes in
            guard let tokenizer = try? Llama3Tokenizer(modelFile: bytes) else { return false }
            _ = tokenizer.decode(tokenizer.encode("Hello, wörld! 123"))
            return true
        },
        FuzzTarget(name: "chat", reads: "assistant replies (tool calls) and Llama Guard verdicts") { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            _ = AssistantReply.parse(text)
            return LlamaGuard.parse(text) != nil
        },
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
