import CoppiceKernels
import CoppiceLLM
import CoppiceTensor
import Foundation
import Testing

/// Structured pruning with compaction on the small fixture Llama (2 blocks, width 64, FFN 64).
@Suite struct LlamaStructuredPruningTests {
    let calibration: [[Int]] = {
        var rng = RandomGenerator(seed: 5)
        return (0..<3).map { _ in (0..<20).map { _ in Int(rng.next() % 96) } }
    }()
    let prompt = [1, 40, 7, 66, 12, 3, 90, 25]

    /// The fixture written as a GGUF file (writePruned reads the rest of the model from it) and run.
    func original() throws -> (path: String, runtime: LlamaRuntime) {
        let path = NSTemporaryDirectory() + "structured-\(UUID().uuidString).gguf"
        try LlamaGGUF.write(try LlamaTests.fixture("untied").0, tokenizer: nil, type: .f32, to: path)
        return (path, try LlamaGGUF.runtime(path: path, maxSequence: 64, maxBatch: 32))
    }

    @Test func targetsParse() {
        #expect(LlamaStructuredPruning.Target("ffn-channels:0.25") == .ffnChannels(0.25) && LlamaStructuredPruning.Target("blocks:3") == .blocks(3))
        for bad in ["ffn-channels:0", "ffn-channels:1", "blocks:0", "blocks:x", "layers:2", "ffn-channels", ""] {
            #expect(LlamaStructuredPruning.Target(bad) == nil, "\(bad)")
        }
    }

    /// Removing FFN channels is the same function as zeroing their down-projection columns: the
    /// narrower model's logits equal the masked full-width one's; it is written as a GGUF file with the
    /// new FFN width and reads back to the same logits.
    @Test func ffnCompactionEqualsMaskingTheChannels() throws {
        let (path, runtime) = try original()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pruning = LlamaStructuredPruning(target: .ffnChannels(0.5))
        let scores = try pruning.scores(runtime, calibration: calibration)
        let (small, removed) = try pruning.compact(runtime, scores: scores)
        #expect(small.configuration.intermediateSize == 32 && removed == [32, 32])
        for l in 0..<2 {
            let kept = Set(scores.channels[l].indices.sorted { scores.channels[l][$0] > scores.channels[l][$1] }.prefix(32))
            var (down, rows, columns) = runtime.weights(layer: l, "down")
            for r in 0..<rows { for j in 0..<columns where !kept.contains(j) { down[r * columns + j] = 0 } }
            runtime.setWeights(layer: l, "down", down)
        }
        let masked = try runtime.forward(prompt), compacted = try small.forward(prompt)
        #expect(maximumDifference(masked, compacted) <= 1e-4 * masked.map(abs).max()!)
        try expectRoundTrip(small, from: path, logits: compacted, ffn: 32, blocks: 2)
    }

    /// The block with the least influence goes; the model keeps the other and its file reads back.
    @Test func blockRemovalDropsTheLeastInfluentialBlock() throws {
        let (path, runtime) = try original()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pruning = LlamaStructuredPruning(target: .blocks(1))
        let scores = try pruning.scores(runtime, calibration: calibration)
        #expect(scores.influence.allSatisfy { $0 >= 0 && $0 <= 2 })
        let (small, removed) = try pruning.compact(runtime, scores: scores)
        #expect(small.configuration.layers == 1 && removed == [scores.influence[0] <= scores.influence[1] ? 0 : 1])
        try expectRoundTrip(small, from: path, logits: try small.forward(prompt), ffn: 64, blocks: 1)
        #expect(throws: LlamaError.self) { try LlamaStructuredPruning(target: .blocks(2)).compact(runtime, scores: scores) }
    }

    func expectRoundTrip(_ small: LlamaRuntime, from path: String, logits: [Float], ffn: Int, blocks: Int) throws {
        let output = path + ".small.gguf"
        defer { try? FileManager.default.removeItem(atPath: output) }
        try LlamaGGUF.writePruned(from: path, runtime: small, type: .f32, to: output)
        let reread = try LlamaGGUF.runtime(path: output, maxSequence: 64, maxBatch: 32)
        #expect(reread.configuration.intermediateSize == ffn && reread.configuration.layers == blocks)
        #expect(maximumDifference(try reread.forward(prompt), logits) <= 1e-5 * logits.map(abs).max()!)
    }

    func maximumDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max()! }
}
