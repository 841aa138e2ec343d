import CoppiceSparsity
import CoppiceTensor
import Testing

@Suite struct MaskSelectionTests {
    func t(_ values: [Float], _ shape: [Int]? = nil) -> Tensor { Tensor(values).reshaped(shape ?? [values.count]) }

    @Test func magnitudeMaskPrunesTheLowestScores() throws {
        let method = PruningMethod(criterion: .magnitude)
        let mask = try method.mask(weight: t([3, -1, 2, 0.5]), previous: nil, amount: .fraction(0.5))
        #expect(mask.scalars == [1, 0, 1, 0])
        #expect(try method.mask(weight: t([3, -1, 2, 0.5]), previous: nil, amount: .count(1)).scalars == [1, 1, 1, 0])
    }

    @Test func tiesAreBrokenByPositionSoTheCountIsExact() throws {
        let mask = try MaskSelection.mask(scores: t([1, 1, 1, 1, 1]), previous: nil, amount: .fraction(0.4), granularity: .element)
        #expect(mask.scalars == [0, 0, 1, 1, 1])
    }

    @Test func iterativePruningNeverRevives() throws {
        let previous = t([0, 1, 1, 1])
        let scores = t([9, 1, 2, 3])
        #expect(try MaskSelection.mask(scores: scores, previous: previous, amount: .fraction(0.5), granularity: .element).scalars == [0, 0, 1, 1])
        #expect(
            try MaskSelection.mask(scores: scores, previous: t([0, 0, 1, 1]), amount: .fraction(0.25), granularity: .element).scalars == [0, 0, 1, 1])
    }

    @Test func structuredSlicesUseTheirNorm() throws {
        let weight = t([1, 2, 0.5, 0.5, 4, 0], [3, 2])
        let rows = try PruningMethod(criterion: .magnitude, granularity: .slices(axis: 0)).mask(weight: weight, previous: nil, amount: .count(1))
        #expect(rows.scalars == [1, 1, 0, 0, 1, 1])
        // L2 ranks row 2 (4) above row 0 (√5); L1 ranks row 0 (3) below row 2 (4) too, but row 1 stays lowest.
        let columns = try PruningMethod(criterion: .magnitude, granularity: .slices(axis: 1), norm: 2).mask(
            weight: weight, previous: nil, amount: .count(1))
        #expect(columns.scalars == [1, 0, 1, 0, 1, 0])
        let conv = Tensor((0..<(3 * 2 * 2 * 2)).map { Float($0 / 8 == 1 ? 0.1 : 1) }).reshaped([3, 2, 2, 2])
        let channels = try PruningMethod(granularity: .slices(axis: 0)).mask(weight: conv, previous: nil, amount: .count(1))
        #expect(channels.scalars == [Float](repeating: 1, count: 8) + [Float](repeating: 0, count: 8) + [Float](repeating: 1, count: 8))
    }

    @Test func blocksArePrunedWhole() throws {
        // 4×4 in 2×2 blocks; the top-right block is the weakest, then the bottom-left.
        let weight = t(
            [
                5, 5, 0.1, 0.1,
                5, 5, 0.1, 0.1,
                1, 1, 3, 3,
                1, 1, 3, 3,
            ], [4, 4])
        let mask = try PruningMethod(granularity: .blocks(rows: 2, columns: 2)).mask(weight: weight, previous: nil, amount: .fraction(0.5))
        #expect(mask.scalars == [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1])
        // Edge blocks of a 3×3 weight in 2×2 blocks are smaller but still pruned whole.
        let edge = try PruningMethod(granularity: .blocks(rows: 2, columns: 2)).mask(
            weight: t([9, 9, 1, 9, 9, 1, 9, 9, 9], [3, 3]),
            previous: nil, amount: .count(1))
        #expect(edge.scalars == [1, 1, 0, 1, 1, 0, 1, 1, 1])
    }

    @Test func nOfMKeepsTheLargestInEveryGroup() throws {
        let weight = t([1, -3, 2, 0.5, 4, 4, 4, 4], [2, 4])
        let mask = try PruningMethod(granularity: .nOfM(n: 2, m: 4)).mask(weight: weight, previous: nil, amount: .fraction(0.5))
        #expect(mask.scalars == [0, 1, 1, 0, 1, 1, 0, 0])
        let previous = t([1, 0, 1, 1, 1, 1, 1, 1], [2, 4])
        #expect(
            try PruningMethod(granularity: .nOfM(n: 2, m: 4)).mask(weight: weight, previous: previous, amount: .fraction(0.5)).scalars
                == [1, 0, 1, 0, 1, 1, 0, 0])
        #expect(throws: PruningError.self) {
            try PruningMethod(granularity: .nOfM(n: 2, m: 4)).mask(weight: t([1, 2, 3], [1, 3]), previous: nil, amount: .fraction(0.5))
        }
    }

    @Test func globalMagnitudeRanksAcrossTensors() throws {
        let masks = try MaskSelection.globalMasks(scores: [t([1, 5]), t([2, 3, 0.1])], previous: [nil, nil], amount: .fraction(0.4))
        #expect(masks[0].scalars == [0, 1] && masks[1].scalars == [1, 1, 0])
    }

    @Test func criteriaScoreAsPublished() throws {
        let w = t([2, -3]), g = t([0.5, 1])
        #expect(try PruningMethod(criterion: .taylor).scores(weight: w, gradient: g).scalars == [1, 3])
        #expect(throws: PruningError.self) { try PruningMethod(criterion: .taylor).scores(weight: w) }
        #expect(try PruningMethod(criterion: .magnitude, norm: 2).scores(weight: w).scalars == [4, 9])
        let random = try PruningMethod(criterion: .random, seed: 3).scores(weight: w).scalars
        #expect(random == (try PruningMethod(criterion: .random, seed: 3).scores(weight: w).scalars))
    }

    @Test func amountsAndGranularitiesAreValidated() throws {
        #expect(throws: PruningError.self) { try MaskSelection.mask(scores: t([1]), previous: nil, amount: .fraction(1.5), granularity: .element) }
        #expect(throws: PruningError.self) { try MaskSelection.mask(scores: t([1]), previous: nil, amount: .count(2), granularity: .element) }
        #expect(throws: PruningError.self) { try MaskSelection.mask(scores: t([1, 2]), previous: t([1]), amount: .count(1), granularity: .element) }
        #expect(try Granularity(parsing: "2:4") == .nOfM(n: 2, m: 4))
        #expect(try Granularity(parsing: "block:4x8") == .blocks(rows: 4, columns: 8))
        #expect(try Granularity(parsing: "unstructured") == .element)
        #expect(try Granularity(parsing: "slices:1") == .slices(axis: 1))
        #expect(throws: PruningError.self) { try Granularity(parsing: "4:2") }
    }
}
