import CoppiceFormats
import CoppiceSparsity
import CoppiceTensor
import Foundation
import Testing

@Suite struct SparseStorageTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "coppice-sparse-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func sparseTensor(_ shape: [Int], sparsity: Float, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let values = (0..<shape.reduce(1, *)).map { _ in rng.nextUniform() < sparsity ? 0 : rng.nextNormal() }
        return Tensor(values).reshaped(shape)
    }

    @Test func sparseFilesLoadBackExactlyAndShrink() throws {
        let weights = [
            "fc.weight": sparseTensor([256, 300], sparsity: 0.9, seed: 1),
            "conv.weight": sparseTensor([16, 3, 3, 3], sparsity: 0.8, seed: 2),
            "fc.bias": sparseTensor([256], sparsity: 0, seed: 3),
            "empty.weight": Tensor.zeros([4, 5]),
        ]
        let sparsePath = directory + "/sparse.safetensors", densePath = directory + "/dense.safetensors"
        try SparseStorage.write(weights, metadata: ["model": "test"], to: sparsePath)
        try Safetensors.write(weights, to: densePath)
        let back = try SparseStorage.read(sparsePath)
        #expect(Set(back.keys) == Set(weights.keys))
        for (name, tensor) in weights { #expect(back[name]?.shape == tensor.shape && back[name]?.scalars == tensor.scalars, "\(name)") }
        let file = try SafetensorsFile(path: sparsePath)
        #expect(file.names.contains("fc.weight.csr_values") && file.names.contains("fc.bias") && file.metadata["model"] == "test")
        let sparseSize = try FileManager.default.attributesOfItem(atPath: sparsePath)[.size] as! Int
        let denseSize = try FileManager.default.attributesOfItem(atPath: densePath)[.size] as! Int
        // Values and 32-bit indices: about 2 × (1 − s) of the dense bytes for the big weight.
        #expect(Double(sparseSize) < 0.35 * Double(denseSize), "\(sparseSize) vs \(denseSize)")
    }

    @Test func corruptSparseEntriesAreRejected() throws {
        let path = directory + "/bad.safetensors"
        try Safetensors.write(
            ["w.csr_values": Tensor([1, 2])],
            integers: ["w.csr_column_indices": ([2], [0, 7]), "w.csr_row_starts": ([3], [0, 1, 2])],
            metadata: [SparseStorage.metadataKey: #"{"w":{"format":"csr","shape":[2,3]}}"#], to: path)
        #expect(throws: FormatError.self) { try SparseStorage.read(path) }
        try Safetensors.write(["x": Tensor([1])], metadata: [SparseStorage.metadataKey: "nonsense"], to: path)
        #expect(throws: FormatError.self) { try SparseStorage.read(path) }
    }

    /// Shapes in the metadata that would overflow, allocate from the header alone or disagree with the
    /// stored row starts are refused before the dense matrix is allocated.
    @Test func sparseShapesThatTheDataCannotBackAreRefused() throws {
        let path = directory + "/shapes.safetensors"
        func refused(_ shape: String) throws -> String {
            try Safetensors.write(
                ["w.csr_values": Tensor([1, 2])],
                integers: ["w.csr_column_indices": ([2], [0, 1]), "w.csr_row_starts": ([3], [0, 1, 2])],
                metadata: [SparseStorage.metadataKey: #"{"w":{"format":"csr","shape":"# + shape + "}}"], to: path)
            do {
                _ = try SparseStorage.read(path)
                return "accepted"
            } catch { return error.description }
        }
        #expect(try refused("[2,3]") == "accepted")
        #expect(try refused("[2,4611686018427387904,4]").contains("larger than 2^32 elements"))
        #expect(try refused("[2,3037000500,3037000500]").contains("larger than 2^32 elements"))
        #expect(try refused("[2,-3]").contains("unsupported sparse format"))
        #expect(try refused("[3,3]").contains("has 3 rows, the row starts give 2"))
        #expect(try refused("[1048576,1048576]").contains("larger than 2^32 elements"))
    }
}
