import CoppiceData
import CoppiceRec
import Testing

@Suite struct SyntheticCTRTests {
    @Test func streamIsReproducibleSkewedAndNearTheBaseRate() throws {
        let generator = try SyntheticCTR(tableSizes: [1000, 50], denseCount: 3, seed: 4)
        let examples = try generator.examples(0..<4000)
        #expect(try generator.examples(1234..<1236) == Array(examples[1234..<1236]), "any range regenerates exactly")
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

    /// The teacher stream: labels from a small teacher DLRM, computed in blocks of 1024 examples, so
    /// a range straddling block edges regenerates exactly; the base rate is in 3-25%.
    @Test func theTeacherStreamRegeneratesAnyRangeAndSetsTheBaseRate() throws {
        let teacher = SyntheticTeacher(bottomHidden: [32, 16], topHidden: [32])
        let generator = try SyntheticCTR(tableSizes: [300, 50, 20], denseCount: 4, teacher: teacher, seed: 2)
        let examples = try generator.examples(0..<3000)
        for range in [1000..<1100, 1023..<1025, 2047..<2049, 2990..<3000, 5..<6] {
            #expect(try generator.examples(range) == Array(examples[range]), "\(range)")
        }
        let ctr = Double(examples.filter { $0.label == 1 }.count) / 3000
        #expect(ctr > 0.1 && ctr < 0.25, "\(ctr)")
        let logistic = try SyntheticCTR(tableSizes: [300, 50, 20], denseCount: 4, seed: 2).examples(0..<3000)
        #expect(zip(logistic, examples).allSatisfy { $0.dense == $1.dense && $0.sparse == $1.sparse }, "the same features")
        #expect(logistic.map(\.label) != examples.map(\.label), "another truth")
        let otherSeed = try SyntheticCTR(tableSizes: [300, 50, 20], denseCount: 4, teacher: teacher, seed: 3).examples(0..<100)
        #expect(otherSeed.map(\.dense) != examples[0..<100].map(\.dense), "the seed varies the features")
        // Abrupt drift: a new teacher (and popularity order) every 1500 examples.
        let drifting = try SyntheticCTR(tableSizes: [300, 50, 20], denseCount: 4, drift: .abrupt(every: 1500), teacher: teacher, seed: 2)
        let drifted = try drifting.examples(0..<3000)
        let later = try SyntheticCTR(tableSizes: [300, 50, 20], denseCount: 4, drift: .abrupt(every: 3000), teacher: teacher, seed: 2).examples(
            0..<3000)
        #expect(drifted[..<1500] == later[..<1500] && drifted[1500...].map(\.label) != later[1500...].map(\.label))
        #expect(try drifting.examples(1400..<1600) == Array(drifted[1400..<1600]))
    }
}
