import CoppiceData
import CoppiceRec
import Testing

@Suite struct SyntheticCTRTests {
    @Test func streamIsReproducibleSkewedAndNearTheBaseRate() throws {
        let generator = try SyntheticCTR(tableSizes: [1000, 50], denseCount: 3, seed: 4)
        let examples = generator.examples(0..<4000)
        #expect(generator.examples(1234..<1236) == Array(examples[1234..<1236]), "any range regenerates exactly")
        #expect(examples.allSatisfy { $0.dense.count == 3 && $0.sparse[0][0] < 1000 && $0.sparse[1][0] < 50 })
        let top = examples.filter { $0.sparse[0][0] == 0 }.count, tail = examples.filter { $0.sparse[0][0] == 500 }.count
        #expect(top > 100 * max(tail, 1) / 10, "Zipf: rank 0 is far more frequent (\(top) vs \(tail))")
        let ctr = Double(examples.filter { $0.label == 1 }.count) / 4000
        let planted = examples.map { Double(generator.probability(dense: $0.dense, sparse: $0.sparse, at: 0)) }.reduce(0, +) / 4000
        #expect(ctr > 0.1 && ctr < 0.5 && abs(ctr - planted) < 0.03, "\(ctr) vs planted \(planted)")
    }

    @Test func driftChangesThePlantedTruth() throws {
        let x = try SyntheticCTR(tableSizes: [100], denseCount: 2, seed: 9).examples(0..<1)[0]
        let still = try SyntheticCTR(tableSizes: [100], denseCount: 2, seed: 9)
        #expect(still.probability(dense: x.dense, sparse: x.sparse, at: 0) == still.probability(dense: x.dense, sparse: x.sparse, at: 50_000))
        let abrupt = try SyntheticCTR(tableSizes: [100], denseCount: 2, drift: .abrupt(every: 1000), seed: 9)
        #expect(abrupt.probability(dense: x.dense, sparse: x.sparse, at: 999) != abrupt.probability(dense: x.dense, sparse: x.sparse, at: 1000))
        #expect(abrupt.probability(dense: x.dense, sparse: x.sparse, at: 0) == abrupt.probability(dense: x.dense, sparse: x.sparse, at: 999))
        let gradual = try SyntheticCTR(tableSizes: [100], denseCount: 2, drift: .gradual(period: 1000), seed: 9)
        let p = [0, 500, 999, 1000].map { gradual.probability(dense: x.dense, sparse: x.sparse, at: $0) }
        #expect(abs(p[2] - p[3]) < abs(p[0] - p[3]) + 1e-6, "gradual drift is continuous at the period's end: \(p)")
    }
}
