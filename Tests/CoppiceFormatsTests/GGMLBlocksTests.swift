import CoppiceFormats
import CoppiceKernels
import Foundation
import Testing

/// GGUF block types against ggml itself (`Fixtures/make_ggml_blocks_fixture.py`: values quantized by
/// `ggml_quantize_chunk`, dequantized by ggml's `to_float`): every type Coppice reads gives ggml's
/// values, and Coppice's quantizers write ggml's bytes.
@Suite struct GGMLBlocksTests {
    struct Fixture: Decodable {
        var shape: [Int]
        var values: [Float]
        var dequantized: [String: [Float]]
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    func fixture() throws -> (GGUFFile, Fixture) {
        let json = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/ggml_blocks.json"))
        return (try GGUFFile(path: Self.directory + "/ggml_blocks.gguf"), try JSONDecoder().decode(Fixture.self, from: json))
    }

    @Test func everyBlockTypeReadsAsGgmlDequantizesIt() throws {
        let (file, fixture) = try fixture()
        #expect(Set(fixture.dequantized.keys) == Set(["q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_K", "q5_K", "q6_K"]))
        for (name, expected) in fixture.dequantized {
            let info = try #require(file.tensors[name])
            #expect(info.type.name == name && info.shape == fixture.shape)
            let values = try file.tensor(name).scalars
            // ggml's C may fuse d·q − m into one multiply-add: the last bit may differ.
            let worst = zip(values, expected).map { abs($0 - $1) / max(abs($1), 1e-3) }.max()!
            #expect(worst < 1e-6, "\(name): relative difference \(worst)")
        }
    }

    @Test(arguments: [BlockQuantization.q4_0, .q8_0, .q4_1])
    func quantizersWriteGgmlsBytes(format: BlockQuantization) throws {
        let (file, fixture) = try fixture()
        var bytes = [UInt8](repeating: 0, count: format.byteCount(fixture.values.count))
        fixture.values.withUnsafeBufferPointer { v in bytes.withUnsafeMutableBytes { format.quantize(v, into: $0) } }
        #expect(bytes == (try file.bytes(format.rawValue)))
    }
}
