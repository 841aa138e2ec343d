import CoppiceNN
import CoppiceOptimizers
import CoppiceTensor
import CoppiceTestSupport
import Testing

@Suite struct OptimizerTests {
    /// A parameter whose gradient after `backward` is `gradient`.
    func parameter(_ values: [Float], gradient: [Float]) -> Parameter {
        let p = Parameter(Tensor(values))
        (p.tensor * Tensor(gradient)).sum().backward()
        return p
    }

    @Test func sgdWithMomentumNesterovAndWeightDecayFollowsPyTorch() {
        let p = parameter([1, -2], gradient: [0.5, 1])
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        sgd.step()
        // d = g + λw = [0.51, 0.98]; buf = d; w -= lr·buf.
        #expect(allClose(p.value.scalars, [1 - 0.051, -2 - 0.098]))
        sgd.step()
        let w1: [Float] = [0.949, -2.098]
        let d2 = [0.5 + 0.01 * w1[0], 1 + 0.01 * w1[1]]
        let buf2 = [0.9 * 0.51 + d2[0], 0.9 * 0.98 + d2[1]]
        #expect(allClose(p.value.scalars, [w1[0] - 0.1 * buf2[0], w1[1] - 0.1 * buf2[1]], relativeTolerance: 1e-5))

        let q = parameter([1], gradient: [2])
        let nesterov = SGD(parameters: [q], learningRate: 0.1, momentum: 0.5, nesterov: true)
        nesterov.step()
        // buf = 2; step = g + μ·buf = 3.
        #expect(allClose(q.value.scalars, [0.7]))
    }

    @Test func adamAndAdamWFollowTheirUpdateRules() {
        let p = parameter([1, -1], gradient: [0.2, -0.4])
        let adam = Adam(parameters: [p], learningRate: 0.01, weightDecay: 0.1)
        adam.step()
        // First step: m̂ = g', v̂ = g'², so w -= lr·g'/(|g'| + ε) with g' = g + λw.
        #expect(allClose(p.value.scalars, [1 - 0.01, -1 + 0.01], relativeTolerance: 1e-5))
        let q = parameter([1, -1], gradient: [0.2, -0.4])
        let adamW = Adam.adamW(parameters: [q], learningRate: 0.01, weightDecay: 0.1)
        adamW.step()
        #expect(allClose(q.value.scalars, [1 * (1 - 0.001) - 0.01, -1 * (1 - 0.001) + 0.01], relativeTolerance: 1e-5))
    }

    @Test func adagradAccumulatesSquaredGradients() {
        let p = parameter([1, 1], gradient: [2, -1])
        let adagrad = Adagrad(parameters: [p], learningRate: 0.5)
        adagrad.step()
        #expect(allClose(p.value.scalars, [0.5, 1.5], relativeTolerance: 1e-5))
        adagrad.step()
        let expected: [Float] = [0.5 - 0.5 * 2 / Float(8).squareRoot(), 1.5 + 0.5 / Float(2).squareRoot()]
        #expect(allClose(p.value.scalars, expected, relativeTolerance: 1e-5))
        #expect(adagrad.accumulator(of: p) == [8, 2])
    }

    @Test func rowSparseUpdatesTouchOnlyBatchRows() throws {
        var rng = RandomGenerator(seed: 3)
        for makeOptimizer in [{ Adagrad(parameters: $0, learningRate: 0.1) as Optimizer }, { SGD(parameters: $0, learningRate: 0.1) }] {
            let table = EmbeddingBag(count: 50, dimension: 4, using: &rng)
            let before = table.weight.value.scalars
            let optimizer = makeOptimizer([table.weight])
            let out = try table([3, 17, 3], offsets: [0, 2])
            out.backward(seed: Tensor.ones(out.shape))
            #expect(table.weight.grad == nil && table.weight.sparseGrad != nil)
            optimizer.step()
            let after = table.weight.value.scalars
            for row in 0..<50 {
                let changed = (0..<4).contains { after[row * 4 + $0] != before[row * 4 + $0] }
                #expect(changed == (row == 3 || row == 17), "row \(row)")
            }
            if let adagrad = optimizer as? Adagrad {
                let sums = try #require(adagrad.accumulator(of: table.weight))
                #expect(sums[3 * 4] == 4 && sums[17 * 4] == 1 && sums[0] == 0)
            }
        }
    }

    @Test func masksStayZeroUnderMomentumAndAdamW() {
        var rng = RandomGenerator(seed: 4)
        for makeOptimizer in [
            { SGD(parameters: $0, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3) as Optimizer },
            { Adam.adamW(parameters: $0, learningRate: 0.01) },
        ] {
            let layer = Linear(inFeatures: 6, outFeatures: 5, using: &rng)
            let mask = Tensor.bernoulli([5, 6], probability: 0.5, using: &rng)
            layer.weight.mask = mask
            layer.weight.applyMask()
            let optimizer = makeOptimizer(layer.parameters())
            let x = Tensor.normal([8, 6], using: &rng)
            for _ in 0..<10 {
                optimizer.zeroGrad()
                layer(x).squared().mean().backward()
                optimizer.step()
            }
            let weights = layer.weight.value.scalars, keep = mask.scalars
            #expect(zip(weights, keep).allSatisfy { $1 == 0 ? $0 == 0 : $0 != 0 })
        }
    }

    @Test func learningRateSchedules() {
        #expect(StepDecay(base: 1, stepSize: 10, gamma: 0.5).learningRate(at: 25) == 0.25)
        #expect(MultiStepDecay(base: 1, milestones: [5, 8], gamma: 0.1).learningRate(at: 8) == Float(0.1) * Float(0.1))
        let cosine = CosineAnnealing(base: 1, totalSteps: 10, minimum: 0.1)
        #expect(cosine.learningRate(at: 0) == 1 && Swift.abs(cosine.learningRate(at: 5) - 0.55) < 1e-6 && cosine.learningRate(at: 20) == 0.1)
        let warm = LinearWarmup(warmupSteps: 4, then: ConstantRate(0.8))
        #expect(warm.learningRate(at: 0) == 0 && warm.learningRate(at: 2) == 0.4 && warm.learningRate(at: 9) == 0.8)
    }

    @Test func mlpLearnsASeparableProblem() throws {
        var rng = RandomGenerator(seed: 5)
        let model = Sequential([Linear(inFeatures: 2, outFeatures: 16, using: &rng), Tanh(), Linear(inFeatures: 16, outFeatures: 2, using: &rng)])
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.5, momentum: 0.9)
        let x = Tensor.normal([64, 2], using: &rng)
        let labels = x.scalars.chunks(2).map { $0.first! * $0.last! > 0 ? 1 : 0 }
        var last: Float = 0
        for _ in 0..<300 {
            optimizer.zeroGrad()
            let loss = try Loss.crossEntropy(model(x), labels: labels)
            loss.backward()
            optimizer.step()
            last = loss.item
        }
        #expect(last < 0.15)
    }
}

private extension Array {
    func chunks(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
