import ArgumentParser
import CoppiceFormats
import CoppiceLLM
import Foundation

/// A Llama into llama.cpp's GGUF layout: a Hugging Face directory (a model Coppice trained or pruned,
/// or a downloaded one) converted, or a GGUF file stored again in another type (as llama-quantize).
struct ConvertLlama: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-llama",
        abstract: "Write a Llama (Hugging Face directory or GGUF file) as a GGUF file that llama.cpp loads.",
        discussion: "Example: coppice convert-llama runs/austen/model austen-q8_0.gguf --type q8_0")

    @Argument(help: "Hugging Face model directory (config.json + safetensors) or GGUF file.") var input: String
    @Argument(help: "Output .gguf file (written atomically).") var output: String
    @Option(help: "Matrix storage (Q8_0/Q4_0: widths in blocks of 32); vectors stay F32.") var type: MatrixStorage = .f16
    @Option(help: "Meta's Llama 3 tokenizer.model (its vocabulary goes into the file; llama.cpp needs it).")
    var tokenizer = ".data/llama3/tokenizer.model"

    func validate() throws {
        guard output.lowercased().hasSuffix(".gguf") else { throw ValidationError("the output must be a .gguf file, got \(output)") }
    }

    func run() throws {
        let model = try LlamaGGUF.convert(input, to: output, type: type.type, tokenizer: tokenizer)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        print("\(output): \(model.parameterCount()) parameters as \(type.rawValue), \(bytes) bytes")
    }
}
