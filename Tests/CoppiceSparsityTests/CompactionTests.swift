import CoppiceNN
import CoppiceSparsity
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct CompactionTests {
    /// Zeroes the weight rows (output units) `units` of a parameter.
    func zeroUnits(_ parameter: Parameter, _ units: [Int]) {
        let perUnit = parameter.shape.dropFirst().reduce(1, *)
        parameter.update { w in for u in units { for i in 0..<perUnit { w[u * perUnit + i] = 0 } } }
    }

    @Test func linearChainsShrinkAndKeepTheirOutputs() throws {
        var rng = RandomGenerator(seed: 1)
        let model = Sequential([
            Linear(inFeatures: 6, outFeatures: 5, using: &rng), ReLU(),
            Linear(inFeatures: 5, outFeatures: 4, using: &rng), Tanh(),
            Linear(inFeatures: 4, outFeatures: 3, using: &rng),
        ])
        zeroUnits((model.layers[0] as! Linear).weight, [1, 3])
        zeroUnits((model.layers[2] as! Linear).weight, [0])
        let x = Tensor.normal([7, 6], using: &rng)
        let expected = withoutGradient { model(x) }.scalars
        let (small, summary) = Compaction.compact(model)
        #expect(summary.layers.map { [$0.index, $0.before, $0.after] } == [[0, 5, 3], [2, 4, 3]])
        #expect((small.layers[2] as! Linear).weight.shape == [3, 3] && (small.layers[4] as! Linear).weight.shape == [3, 3])
        #expect(summary.parametersAfter < summary.parametersBefore)
        #expect(allClose(withoutGradient { small(x) }.scalars, expected, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
    }

    @Test func convolutionChannelsGoOnlyWhereTheResultIsExact() throws {
        var rng = RandomGenerator(seed: 2)
        let first = Conv2D(inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, using: &rng)
        let bn = BatchNorm2D(features: 4)
        let model = Sequential([first, bn, ReLU(), Conv2D(inChannels: 4, outChannels: 3, kernelSize: 3, padding: 1, using: &rng)])
        // Give the running statistics real values, then zero channels 1 and 2; channel 2's constant is
        // pushed below zero so ReLU makes it exactly 0, channel 1's stays positive.
        _ = model(Tensor.normal([4, 2, 6, 6], using: &rng))
        zeroUnits(first.weight, [1, 2])
        first.bias!.update {
            $0[1] = 5; $0[2] = -50
        }
        let x = Tensor.normal([2, 2, 6, 6], using: &rng)
        model.setTraining(false)
        let expected = withoutGradient { model(x) }.scalars
        let (small, summary) = Compaction.compact(model)
        #expect(summary.layers.map { [$0.index, $0.before, $0.after] } == [[0, 4, 3]], "only the channel whose output is 0")
        #expect((small.layers[1] as! BatchNorm).weight.shape == [3])
        #expect(allClose(withoutGradient { small(x) }.scalars, expected, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
    }

    @Test func unpaddedConsumersAbsorbConstantChannels() throws {
        var rng = RandomGenerator(seed: 3)
        let first = Conv2D(inChannels: 1, outChannels: 3, kernelSize: 3, using: &rng)
        let model = Sequential([first, ReLU(), Conv2D(inChannels: 3, outChannels: 2, kernelSize: 3, using: &rng)])
        zeroUnits(first.weight, [0])
        first.bias!.update { $0[0] = 0.7 }
        let x = Tensor.normal([2, 1, 9, 9], using: &rng)
        let expected = withoutGradient { model(x) }.scalars
        let (small, summary) = Compaction.compact(model)
        #expect(summary.layers.map(\.after) == [2])
        #expect(allClose(withoutGradient { small(x) }.scalars, expected, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
    }

    @Test func structuredPruningThenCompactionGivesASmallerEquivalentModel() throws {
        var rng = RandomGenerator(seed: 4)
        let model = Sequential([Linear(inFeatures: 10, outFeatures: 16, using: &rng), ReLU(), Linear(inFeatures: 16, outFeatures: 4, using: &rng)])
        let pruner = try Pruner(
            model: model,
            recipe: PruningRecipe(
                method: PruningMethod(granularity: .slices(axis: 0)),
                schedule: .oneShot(sparsity: 0.5, step: 0), parameters: ["0.weight"]))
        try pruner.step(0)
        let x = Tensor.normal([5, 10], using: &rng)
        let expected = withoutGradient { model(x) }.scalars
        let (small, summary) = Compaction.compact(model)
        #expect((small.layers[0] as! Linear).outFeatures == 8 && summary.parametersAfter == 8 * 10 + 8 + 4 * 8 + 4)
        #expect(allClose(withoutGradient { small(x) }.scalars, expected, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
    }
}

@Suite struct EmbeddingCompactionTests {
    @Test func zeroEmbeddingDimensionsAreDroppedWithTheirReaders() throws {
        var rng = RandomGenerator(seed: 9)
        let embedding = Embedding(count: 12, dimension: 6, using: &rng)
        let reader = Linear(inFeatures: 6, outFeatures: 3, using: &rng)
        let pruner = try Pruner(
            model: embedding,
            recipe: PruningRecipe(
                method: PruningMethod(granularity: .slices(axis: 1)),
                schedule: .oneShot(sparsity: 0.5, step: 0), parameters: ["weight"]))
        try pruner.step(0)
        let ids = [0, 5, 11, 5]
        let expected = reader(try embedding(ids)).scalars
        let (smaller, smallerReader) = Compaction.compact(embedding, consumer: reader)
        #expect(smaller.weight.shape == [12, 3] && smallerReader.weight.shape == [3, 3])
        #expect(allClose(smallerReader(try smaller(ids)).scalars, expected, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
    }
}

@Suite struct FinalizeSwapTests {
    @Test func finalizeBuildsAnInferenceModelWithTheFasterTwinsAndTheSameOutputs() throws {
        var rng = RandomGenerator(seed: 10)
        let model = Sequential([
            Linear(inFeatures: 512, outFeatures: 512, using: &rng), ReLU(), Linear(inFeatures: 512, outFeatures: 10, using: &rng),
        ])
        let pruner = try Pruner(model: model, recipe: PruningRecipe(method: PruningMethod(), schedule: .oneShot(sparsity: 0.97, step: 0)))
        try pruner.step(0)
        let x = Tensor.normal([1, 512], using: &rng)
        let expected = withoutGradient { model(x) }.scalars
        let inference = pruner.finalize(forInference: model, input: x)
        let report = inference.report
        #expect(report.layers.count == 2)
        let swapped = inference.model.layers.filter { FusedReLU.unwrapping($0).layer is SparseLinear }.count
        #expect(swapped == report.layers.filter { $0.chosen == "csr" }.count)
        #expect(allClose(inference(x).scalars, expected, relativeTolerance: 1e-4, absoluteTolerance: 1e-5))
    }
}
