import CoppiceData
import CoppiceNN
import CoppiceRec
import CoppiceRuns
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct AlternateGrowthPruningTests {
    func modelAndBatch(seed: UInt64) throws -> (DLRM, DLRMBatch) {
        var rng = RandomGenerator(seed: seed)
        let configuration = DLRMConfiguration(bottomMLP: [4, 12, 10, 6], topMLP: [9, 7, 1], embeddingDimension: 6, tableSizes: [20, 30])
        let model = try DLRM(configuration, using: &rng)
        let batch = DLRMBatch(
            dense: .normal([5, 4], using: &rng), indices: [[1, 2, 3, 4, 5], [9, 8, 7, 6, 5]],
            offsets: [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])
        return (model, batch)
    }

    @Test func pruningShrinksTheLayersAndRestoringGivesTheSameModelBack() throws {
        let (model, batch) = try modelAndBatch(seed: 1)
        let before = withoutGradient { try? model(batch) }!.scalars
        let amgp = AlternateGrowthPruning(model: model, regrowth: .restore)
        let denseCost = amgp.forwardMultiplyAdds
        #expect(amgp.widths == [12, 10, 9, 7])
        try amgp.prune(fraction: 0.5)
        #expect(amgp.widths == [6, 5, 4, 3], "physically smaller: round(half of the full width) removed from each")
        #expect(amgp.forwardMultiplyAdds < denseCost)
        let pruned = try #require(withoutGradient { try? model(batch) })
        #expect(pruned.shape == [5, 1] && !pruned.hasNonFinite)
        amgp.regrow()
        #expect(amgp.widths == [12, 10, 9, 7] && amgp.forwardMultiplyAdds == denseCost)
        let restored = withoutGradient { try? model(batch) }!.scalars
        #expect(allClose(restored, before, relativeTolerance: 1e-6, absoluteTolerance: 1e-6), "restore puts every weight back")
    }

    @Test func freshRegrowthStartsWithoutChangingTheFunction() throws {
        let (model, batch) = try modelAndBatch(seed: 2)
        let amgp = AlternateGrowthPruning(model: model, regrowth: .fresh)
        try amgp.prune(fraction: 0.3)
        let pruned = withoutGradient { try? model(batch) }!.scalars
        amgp.regrow()
        let regrown = withoutGradient { try? model(batch) }!.scalars
        #expect(allClose(regrown, pruned, relativeTolerance: 1e-6, absoluteTolerance: 1e-6), "new neurons have zero outgoing weights")
        #expect(amgp.widths == [12, 10, 9, 7])
    }

    /// A checkpoint's snapshot, restored into a fresh model of the same configuration, carries the
    /// pruned widths, the removed weights and the generator: both regrow to the same model.
    @Test func aSnapshotRestoredElsewhereRegrowsTheSame() throws {
        for regrowth in AlternateGrowthPruning.Regrowth.allCases {
            let (model, batch) = try modelAndBatch(seed: 3)
            let amgp = AlternateGrowthPruning(model: model, regrowth: regrowth, seed: 4)
            try amgp.prune(fraction: 0.4)
            let (snapshot, tensors) = amgp.snapshot()
            let (copy, _) = try modelAndBatch(seed: 9)
            let restored = AlternateGrowthPruning(model: copy, regrowth: regrowth, seed: 0)
            try restored.restore(snapshot, tensors: tensors)
            try copy.load(stateDict: model.stateDict())
            #expect(restored.widths == amgp.widths)
            amgp.regrow()
            restored.regrow()
            let a = withoutGradient { try? model(batch) }!.scalars, b = withoutGradient { try? copy(batch) }!.scalars
            #expect(a == b, "\(regrowth)")
            #expect(model.stateDict().mapValues(\.scalars) == copy.stateDict().mapValues(\.scalars), "\(regrowth)")
        }
    }

    @Test func aSnapshotThatDoesNotFitTheModelIsRefused() throws {
        let (model, _) = try modelAndBatch(seed: 3)
        let amgp = AlternateGrowthPruning(model: model, regrowth: .restore)
        try amgp.prune(fraction: 0.5)
        let (snapshot, tensors) = amgp.snapshot()
        var outOfRange = snapshot
        outOfRange.alive[0] = [0, 99]
        var overlapping = snapshot
        overlapping.removed[1] = [overlapping.alive[1][0]]
        var missingLayer = snapshot
        missingLayer.alive.removeLast()
        for bad in [outOfRange, overlapping, missingLayer] {
            let (fresh, _) = try modelAndBatch(seed: 3)
            #expect(throws: DLRMError.self) { try AlternateGrowthPruning(model: fresh).restore(bad, tensors: tensors) }
        }
        let (fresh, _) = try modelAndBatch(seed: 3)
        #expect(throws: DLRMError.self, "removed weights missing") {
            try AlternateGrowthPruning(model: fresh).restore(snapshot, tensors: tensors.filter { !$0.key.hasSuffix("columns") })
        }
    }
}

@Suite struct DLRMTrainingTests {
    /// Pruning at the first step replaces the Linear layers; the optimizer must train the new ones.
    @Test func aScheduleThatPrunesAtStepZeroStillTrainsThePrunedLayers() throws {
        let data = try SyntheticCTR(tableSizes: [50, 40], denseCount: 3, seed: 3).dataset(rows: 600)
        let configuration = DLRMConfiguration(bottomMLP: [3, 16, 8], topMLP: [8, 1], embeddingDimension: 8, tableSizes: [50, 40])
        var training = DLRMTraining(configuration: configuration)
        training.phases = [0.5]
        training.batchSize = 64
        training.seed = 5
        let (trained, result) = try training.run(data)
        var rng = RandomGenerator(seed: 5)
        let untrained = try DLRM(configuration, using: &rng)
        try AlternateGrowthPruning(model: untrained, regrowth: training.regrowth, seed: 5).prune(fraction: 0.5)
        let a = (trained.bottom.layers[0] as! Linear).weight.value, b = (untrained.bottom.layers[0] as! Linear).weight.value
        #expect(a.shape == [8, 3] && a.shape == b.shape, "pruned to half width")
        #expect(a.scalars != b.scalars, "the pruned layer was trained")
        #expect(result.trainingMultiplyAdds > 0)
    }

    @Test func phaseLengthsPlaceTheBoundaries() throws {
        var training = DLRMTraining(configuration: DLRMConfiguration(bottomMLP: [3, 8], topMLP: [1], embeddingDimension: 8, tableSizes: [5]))
        training.phases = [0, 0.5, 0]
        #expect([0, 33, 34, 66, 67, 99].map { training.phase(at: $0, of: 100) } == [0, 0, 1, 1, 2, 2], "equal thirds")
        training.phaseLengths = [0.1, 0.2, 0.7]
        #expect([0, 9, 10, 29, 30, 99].map { training.phase(at: $0, of: 100) } == [0, 0, 1, 1, 2, 2])
        training.phaseLengths = [1, 2]
        #expect(throws: DLRMError.self) { try training.run(SyntheticCTR(tableSizes: [5], denseCount: 3).dataset(rows: 50)) }
    }

    /// The four runs of the comparison, the small dense model costing what AMGP did on average.
    @Test func comparisonMatchesTheSmallModelToAMGPsAverageCost() throws {
        let data = try SyntheticCTR(tableSizes: [50, 40], denseCount: 3, seed: 3).dataset(rows: 1500)
        let configuration = DLRMConfiguration(bottomMLP: [3, 64, 32, 8], topMLP: [64, 1], embeddingDimension: 8, tableSizes: [50, 40])
        #expect(configuration.forwardMultiplyAdds == 3 * 64 + 64 * 32 + 32 * 8 + (3 + 8) * 64 + 64 + 9 * 8)
        var rng = RandomGenerator(seed: 1)
        #expect(AlternateGrowthPruning(model: try DLRM(configuration, using: &rng)).forwardMultiplyAdds == configuration.forwardMultiplyAdds)
        var training = DLRMTraining(configuration: configuration)
        training.phases = [0, 0.5, 0]
        var trainings = 0
        let rows = try AMGPComparison.run(training, repeats: 2) {
            trainings += 1; return try $0.run(data).result
        }
        #expect(rows.map(\.name) == ["dense", "AMGP", "prune-only", "small dense"])
        #expect(trainings == 8 && rows.allSatisfy { $0.runSeconds.count == 2 && $0.seconds == $0.runSeconds.reduce(0, +) / 2 })
        #expect(AMGPComparison.markdown(rows).contains("train time (median of 2)"))
        var slower = rows
        slower[1].ne = rows[1].ne.map { $0 * 1.01 }
        let summary = AMGPComparison.seedSummary([(seed: 1, rows: rows), (seed: 2, rows: slower)])
        let amgpChange = 100 * (rows[1].ne! / rows[0].ne! - 1)
        #expect(summary.contains("seed 2: ΔNE / Δtime") && !summary.contains("| dense |"))
        #expect(summary.contains(String(format: "| AMGP | %+.2f%% /", amgpChange)))
        #expect(rows[1].trainingFLOPs < rows[0].trainingFLOPs && rows[2].trainingFLOPs < rows[1].trainingFLOPs)
        #expect(abs(rows[3].trainingFLOPs / rows[1].trainingFLOPs - 1) < 0.05, "\(rows[3].trainingFLOPs) vs \(rows[1].trainingFLOPs)")
        #expect(rows[3].bottomMLP.first == 3 && rows[3].bottomMLP.last == 8 && rows[3].topMLP.last == 1)
        #expect(AMGPComparison.markdown(rows).contains("small dense") && AMGPComparison.svg(rows, title: "t").hasPrefix("<svg"))
        training.phases = [0.5]
        #expect(throws: TrainingError.self, "a schedule ending sparse is not AMGP") { try AMGPComparison.run(training) { try $0.run(data).result } }
    }
}
