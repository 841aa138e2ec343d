import CoppiceNN
import CoppiceOptimizers
import CoppiceSparsity
import CoppiceTensor
import Foundation
import Testing

@Suite struct PrunerTests {
    func model(seed: UInt64 = 1) -> Sequential {
        var rng = RandomGenerator(seed: seed)
        return Sequential([Linear(inFeatures: 8, outFeatures: 6, using: &rng), ReLU(), Linear(inFeatures: 6, outFeatures: 4, using: &rng)])
    }

    @Test func gradualScheduleFollowsZhuAndGupta() {
        let gmp = SparsitySchedule.gradual(initial: 0, final: 0.8, start: 0, end: 100, frequency: 10)
        #expect(gmp.target(atStep: 0) == 0)
        #expect(Swift.abs(gmp.target(atStep: 50)! - 0.7) < 1e-12)
        #expect(gmp.target(atStep: 100) == 0.8 && gmp.target(atStep: 55) == nil && gmp.target(atStep: 110) == nil)
        let iterative = SparsitySchedule.iterative(sparsity: 0.9, start: 10, stages: 3, frequency: 5)
        #expect([10, 15, 20, 25].map { iterative.target(atStep: $0) } == [0.3, 0.6, 0.9, nil])
        #expect(SparsitySchedule.oneShot(sparsity: 0.5, step: 3).target(atStep: 3) == 0.5)
        let custom = SparsitySchedule.custom([.init(step: 2, sparsity: 0.25)])
        #expect(custom.target(atStep: 2) == 0.25 && custom.target(atStep: 1) == nil && custom.finalSparsity == 0.25)
    }

    @Test func prunerSelectsByPatternAndReachesEachTarget() throws {
        let net = model()
        let recipe = PruningRecipe(
            method: PruningMethod(), schedule: .iterative(sparsity: 0.5, start: 0, stages: 2, frequency: 1),
            parameters: ["*.weight"])
        let pruner = try Pruner(model: net, recipe: recipe)
        #expect(pruner.targets.map(\.name) == ["0.weight", "2.weight"])
        try pruner.step(0)
        #expect(pruner.sparsities().map(\.sparsity) == [0.25, 0.25])
        try pruner.step(1)
        let final = pruner.finalize()
        #expect(final.map(\.sparsity) == [0.5, 0.5])
        #expect(net.namedParameters().first { $0.name == "0.bias" }!.parameter.mask == nil)
    }

    @Test func masksSurviveTrainingStepsWithMomentum() throws {
        let net = model(seed: 2)
        let pruner = try Pruner(model: net, recipe: PruningRecipe(method: PruningMethod(), schedule: .oneShot(sparsity: 0.7, step: 0)))
        try pruner.step(0)
        let optimizer = SGD(parameters: net.parameters(), learningRate: 0.1, momentum: 0.9)
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.normal([16, 8], using: &rng)
        for _ in 0..<5 {
            optimizer.zeroGrad()
            net(x).squared().mean().backward()
            optimizer.step()
        }
        #expect(pruner.sparsities().allSatisfy { Swift.abs($0.sparsity - 0.7) < 0.03 })
    }

    @Test func aFailingStepLeavesTheModelUntouched() throws {
        let net = model(seed: 4)
        let before = net.stateDict()
        let taylor = PruningRecipe(method: PruningMethod(criterion: .taylor), schedule: .oneShot(sparsity: 0.5, step: 0))
        let pruner = try Pruner(model: net, recipe: taylor)
        // Only the first layer has a gradient: the second layer's Taylor scores cannot be computed.
        var rng = RandomGenerator(seed: 5)
        let first = net.layers[0] as! Linear
        first(Tensor.normal([4, 8], using: &rng)).sum().backward()
        #expect(throws: PruningError.self) { try pruner.step(0) }
        #expect(net.stateDict().mapValues(\.scalars) == before.mapValues(\.scalars))
        #expect(pruner.targets.allSatisfy { $0.parameter.mask?.scalars.allSatisfy { $0 == 1 } ?? false })
    }

    @Test func movementScoresAccumulateAndPrune() throws {
        let net = model(seed: 6)
        let pruner = try Pruner(
            model: net,
            recipe: PruningRecipe(
                method: PruningMethod(criterion: .movement),
                schedule: .oneShot(sparsity: 0.5, step: 2)))
        var rng = RandomGenerator(seed: 7)
        let x = Tensor.normal([8, 8], using: &rng)
        #expect(throws: PruningError.self) { try pruner.prune(to: 0.5) }
        for step in 0..<3 {
            net.zeroGrad()
            net(x).squared().mean().backward()
            pruner.accumulateScores()
            try pruner.step(step)
        }
        #expect(pruner.sparsities().allSatisfy { $0.sparsity == 0.5 })
    }

    @Test func globalScopeSharesOneThreshold() throws {
        let net = model(seed: 8)
        let recipe = PruningRecipe(method: PruningMethod(), schedule: .oneShot(sparsity: 0.6, step: 0), scope: .global)
        let pruner = try Pruner(model: net, recipe: recipe)
        try pruner.step(0)
        let zeros = pruner.targets.map { $0.parameter.value.scalars.filter { $0 == 0 }.count }.reduce(0, +)
        #expect(zeros == Int((0.6 * Double(8 * 6 + 6 * 4)).rounded()))
        #expect(throws: PruningError.self) {
            try Pruner(
                model: net,
                recipe: PruningRecipe(
                    method: PruningMethod(granularity: .nOfM(n: 2, m: 4)),
                    schedule: .oneShot(sparsity: 0.5, step: 0), scope: .global))
        }
    }

    @Test func recipesRoundTripThroughFiles() throws {
        let recipe = PruningRecipe(
            method: PruningMethod(criterion: .magnitude, granularity: .blocks(rows: 4, columns: 4), norm: 2),
            schedule: .gradual(initial: 0, final: 0.9, start: 100, end: 1000, frequency: 100),
            parameters: ["features.*.weight", "classifier.0.weight"], scope: .layer)
        let path = NSTemporaryDirectory() + "recipe-\(UUID().uuidString).json"
        try recipe.save(to: path)
        #expect(try PruningRecipe.load(from: path) == recipe)
        #expect(throws: PruningError.self) { try PruningRecipe.decode(Data("{\"method\": 1}".utf8)) }
        #expect(throws: PruningError.self) {
            try Pruner(
                model: model(), recipe: PruningRecipe(method: PruningMethod(), schedule: .oneShot(sparsity: 0.5, step: 0), parameters: ["nothing.*"]))
        }
    }
}
