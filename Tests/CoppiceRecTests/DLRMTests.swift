import CoppiceFormats
import CoppiceNN
import CoppiceOptimizers
import CoppiceRec
import CoppiceTensor
import CoppiceTestSupport
import Foundation
import Testing

@Suite struct DLRMTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/dlrm_reference.safetensors").path
    static let configuration = DLRMConfiguration(bottomMLP: [5, 8, 4], topMLP: [6, 1], embeddingDimension: 4, tableSizes: [7, 11, 5])

    func referenceModelAndBatch() throws -> (DLRM, DLRMBatch, [Float]) {
        let file = try SafetensorsFile(path: Self.fixture)
        let all = try file.tensors()
        var rng = RandomGenerator(seed: 0)
        let model = try DLRM(Self.configuration, using: &rng)
        try model.load(stateDict: all.filter { !$0.key.hasPrefix("input.") && !$0.key.hasPrefix("output.") })
        let tables = Self.configuration.tableSizes.indices
        let batch = DLRMBatch(
            dense: try file.tensor("input.dense"),
            indices: try tables.map { try file.int32s("input.indices.\($0)").map(Int.init) },
            offsets: try tables.map { try file.int32s("input.offsets.\($0)").map(Int.init) })
        return (model, batch, try file.tensor("output.probability").scalars)
    }

    @Test func forwardMatchesTheReferenceImplementation() throws {
        let (model, batch, expected) = try referenceModelAndBatch()
        let probability = withoutGradient { try? model(batch).sigmoid() }
        #expect(allClose(try #require(probability).scalars, expected, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
        #expect(Self.configuration.interactionWidth == 10, "4 vectors: 6 pairs + the 4-wide bottom output")
    }

    @Test func dotInteractionEqualsTheGramTriangleAndItsGradientChecks() throws {
        // 11 vectors of 13 (odd: every loop tail), batch 11 (a full group of 8 examples and a partial one).
        let (b, n, d) = (11, 11, 13)
        let vectors = (0..<n).map { testTensor([b, d], seed: UInt64(40 + $0)) }
        let gram = matmul(stack(vectors, alongAxis: 1), stack(vectors, alongAxis: 1).permuted([0, 2, 1])).reshaped([b, n * n])
        let triangle = (0..<n).flatMap { i in (0..<i).map { j in i * n + j } }
        let expected = try gram.indexSelect(triangle, alongAxis: 1)
        #expect(dotInteraction(vectors).shape == [b, n * (n - 1) / 2])
        #expect(allClose(dotInteraction(vectors).scalars, expected.scalars, relativeTolerance: 1e-5, absoluteTolerance: 1e-5))
        #expect(dotInteraction([Tensor.zeros([0, 4]), .zeros([0, 4])]).shape == [0, 1] && dotInteraction([vectors[0]]).shape == [b, 0])
        let bad = GradientCheck.mismatches(Array(vectors.prefix(9))) { dotInteraction($0) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }

    /// The hybrid-parallel form (tables side by side in one [B, T × d] tensor): the same values as the
    /// vectors apart, and its gradient checks against finite differences.
    @Test func dotInteractionOfTablesSideBySideEqualsTheVectorsApart() throws {
        let (b, tables, d) = (11, 5, 13)
        let x = testTensor([b, d], seed: 60), embedded = testTensor([b, tables * d], seed: 61)
        let apart = [x] + (0..<tables).map { embedded.sliced(axis: 1, ($0 * d)..<(($0 + 1) * d)).contiguous() }
        #expect(allClose(dotInteraction(x, embedded: embedded, tables: tables).scalars, dotInteraction(apart).scalars, relativeTolerance: 1e-6))
        let bad = GradientCheck.mismatches([x, embedded]) { dotInteraction($0[0], embedded: $0[1], tables: tables) }
        #expect(bad.isEmpty, "\(bad.prefix(3))")
    }

    @Test func embeddingGradientsAndUpdatesTouchOnlyTheBatchRows() throws {
        let (model, batch, _) = try referenceModelAndBatch()
        let before = model.embeddings.map { $0.weight.value.scalars }
        let labels = Tensor((0..<6).map { Float($0 % 2) }).reshaped([6, 1])
        try Loss.binaryCrossEntropyWithLogits(try model(batch), targets: labels).backward()
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1)
        optimizer.step()
        for (t, table) in model.embeddings.enumerated() {
            let sparse = try #require(table.weight.sparseGrad, "table \(t) has a row-sparse gradient")
            #expect(Set(sparse.indices) == Set(batch.indices[t]))
            let after = table.weight.value.scalars
            for row in 0..<Self.configuration.tableSizes[t] where !batch.indices[t].contains(row) {
                #expect(Array(after[(row * 4)..<(row * 4 + 4)]) == Array(before[t][(row * 4)..<(row * 4 + 4)]), "row \(row) untouched")
            }
        }
    }

    @Test func badConfigurationsAndBatchesAreNamed() throws {
        var rng = RandomGenerator(seed: 1)
        #expect(DLRMConfiguration.layers("13-512-256-64-16") == [13, 512, 256, 64, 16] && DLRMConfiguration.layers("13--4") == nil)
        let wrongEnd = DLRMConfiguration(bottomMLP: [13, 8], topMLP: [1], embeddingDimension: 16, tableSizes: [4])
        #expect(throws: DLRMError.self) { try DLRM(wrongEnd, using: &rng) }
        let model = try DLRM(Self.configuration, using: &rng)
        let short = DLRMBatch(dense: .zeros([2, 5]), indices: [[0], [0]], offsets: [[0, 1], [0, 1]])
        #expect(throws: DLRMError.self) { try model(short) }
        let outOfRange = DLRMBatch(dense: .zeros([1, 5]), indices: [[7], [0], [0]], offsets: [[0], [0], [0]])
        #expect(throws: DLRMError.self) { try model(outOfRange) }
    }
}
