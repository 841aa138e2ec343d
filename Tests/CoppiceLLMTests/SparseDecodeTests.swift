import CoppiceKernels
import CoppiceLLM
import Foundation
import Testing

/// Pruned Llama files run from their nonzeros (`LlamaRuntime.maskSparseMatrices`) with the dense
/// runtime's outputs, on the small fixture Llama (widths 64, key/value 32).
@Suite struct SparseDecodeTests {
    /// Magnitude-pruned (output head included), written as an F16 GGUF file and read back: every
    /// matrix is masked, decode moves about 9/16 of the bytes, and prefill and decode logits equal
    /// the dense runtime's on the same file.
    @Test(arguments: ["0.5", "2:4"])
    func prunedFilesRunFromTheirNonzeros(sparsity: String) throws {
        let (model, _, _) = try LlamaTests.fixture("untied")
        #expect(LlamaPruning.pruneByMagnitude(model, pattern: LlamaPruning.Pattern(sparsity)!, includeOutput: true) == 15)
        let path = NSTemporaryDirectory() + "sparse-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try LlamaGGUF.write(model, tokenizer: nil, type: .f16, to: path)
        let dense = try LlamaGGUF.runtime(path: path, maxSequence: 64, maxBatch: 32)
        let sparse = try LlamaGGUF.runtime(path: path, maxSequence: 64, maxBatch: 32)
        #expect(dense.maskedMatrixCount == 0)
        #expect(sparse.maskSparseMatrices() == 15 && sparse.maskedMatrixCount == 15)
        let ratio = Double(sparse.weightBytesPerToken) / Double(dense.weightBytesPerToken)
        // The embedding (not pruned, one row a token) is all that stays dense.
        #expect(ratio > 0.5 && ratio < 0.6, "sparse decode reads \(ratio) of the dense bytes")
        let prompt = [1, 17, 42, 5, 88, 23, 61, 9, 30, 2, 77, 14]
        var a = try dense.forward(prompt), b = try sparse.forward(prompt)
        for step in 0..<6 {
            let scale = a.map(abs).max()!
            let error = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(error <= 1e-4 * scale, "\(sparsity) step \(step): error \(error), scale \(scale)")
            let next = a.indices.max { a[$0] < a[$1] }!
            (a, b) = (try dense.forward([next]), try sparse.forward([next]))
        }
    }

    /// A dense file (no zeros) stays dense, and matrices below the threshold stay dense.
    @Test func denseFilesStayDense() throws {
        let (model, _, _) = try LlamaTests.fixture("untied")
        let path = NSTemporaryDirectory() + "dense-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try LlamaGGUF.write(model, tokenizer: nil, type: .f16, to: path)
        let runtime = try LlamaGGUF.runtime(path: path, maxSequence: 64, maxBatch: 32)
        #expect(runtime.maskSparseMatrices() == 0)
        LlamaPruning.pruneByMagnitude(model, pattern: .unstructured(0.2), includeOutput: false)
        try LlamaGGUF.write(model, tokenizer: nil, type: .f16, to: path)
        #expect(try LlamaGGUF.runtime(path: path, maxSequence: 64, maxBatch: 32).maskSparseMatrices() == 0)
        #expect(try LlamaGGUF.runtime(path: path, maxSequence: 64, maxBatch: 32).maskSparseMatrices(minimumSparsity: 0.15) == 14)
    }
}
