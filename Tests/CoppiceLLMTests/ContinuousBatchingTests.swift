import CoppiceKernels
import CoppiceLLM
import Foundation
import Testing

/// Several sequences in one runtime: batched decode steps against each sequence run alone, and the
/// continuous batcher's schedule against plain generation.
@Suite struct ContinuousBatchingTests {
    /// Three sequences with prompts of different lengths, then decode steps for all of them and for
    /// subsets in another order: every row's logits are those of its sequence run alone, token by token.
    @Test(arguments: [WeightMatrix.Format.f32, .f16])
    func batchedDecodeGivesEachSequenceItsOwnLogits(format: WeightMatrix.Format) throws {
        let (model, tokens, _) = try LlamaTests.fixture("untied")
        let prompts = [Array(tokens[0].prefix(5)), Array(tokens[0].suffix(3)), Array(tokens[0].prefix(1))]
        let batched = LlamaRuntime(model: model, format: format, maxSequence: 32, maxBatch: 8).withSequences(3)
        let alone = prompts.map { _ in LlamaRuntime(model: model, format: format, maxSequence: 32, maxBatch: 8) }
        for (s, prompt) in prompts.enumerated() {
            _ = try batched.forward(prompt, sequence: s)
            _ = try alone[s].forward(prompt)
        }
        let vocabulary = model.configuration.vocabularySize
        for (step, order) in [[0, 1, 2], [2, 0], [1], [0, 2, 1]].enumerated() {
            let next = order.map { (tokens[0][($0 + step) % tokens[0].count]) }
            let logits = try batched.decode(next, sequences: order)
            for (row, s) in order.enumerated() {
                let expected = try alone[s].forward([next[row]])
                let scale = expected.map(abs).max()!
                let got = logits[(row * vocabulary)..<((row + 1) * vocabulary)]
                #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "step \(step), sequence \(s)")
            }
        }
        #expect(batched.lengths == alone.map(\.length))
        #expect(throws: LlamaError.self) { try batched.decode([1, 2], sequences: [0, 0]) }
        #expect(throws: LlamaError.self) { try batched.decode([1], sequences: [3]) }
    }

    /// A prompt joining two sequences' decode step (one pass for all): each entry's logits are its
    /// sequence's alone; a prompt longer than a step is refused there.
    @Test func promptsJoinTheDecodeStep() throws {
        let (model, tokens, _) = try LlamaTests.fixture("untied")
        let batched = LlamaRuntime(model: model, maxSequence: 32, maxBatch: 8).withSequences(3)
        let alone = (0..<3).map { _ in LlamaRuntime(model: model, maxSequence: 32, maxBatch: 8) }
        for s in 0..<2 {
            _ = try batched.forward(Array(tokens[0].prefix(3 + s)), sequence: s)
            _ = try alone[s].forward(Array(tokens[0].prefix(3 + s)))
        }
        let entries: [(sequence: Int, tokens: [Int])] = [(2, Array(tokens[0].suffix(5))), (0, [tokens[0][7]]), (1, [tokens[0][8]])]
        let logits = try batched.step(entries)
        for (i, entry) in entries.enumerated() {
            let expected = try alone[entry.sequence].forward(entry.tokens), scale = expected.map(abs).max()!
            #expect(zip(logits[i], expected).allSatisfy { abs($0 - $1) <= 1e-4 * scale }, "entry \(i)")
        }
        #expect(batched.lengths == alone.map(\.length))
        #expect(throws: LlamaError.self) { try batched.step([(0, Array(repeating: 1, count: 9))]) }
    }

    func generateAlone(_ model: Llama, _ prompt: [Int], maxTokens: Int) throws -> [Int] {
        var sampler = Sampler()
        sampler.temperature = 0
        return try LlamaRuntime(model: model, maxSequence: 32, maxBatch: 8).generate(
            prompt: prompt, maxTokens: maxTokens, sampler: &sampler, stop: [])
    }

    /// Five greedy requests over two sequences: each gets the tokens it would get alone, in order;
    /// requests join as others leave; a request that resends another's prompt plus more reuses the
    /// cached prefix; a cancelled one stops at once; a full queue refuses.
    @Test func continuousBatchingGivesEachRequestItsOwnGeneration() throws {
        let (model, tokens, _) = try LlamaTests.fixture("untied")
        let batcher = ContinuousBatcher(runtime: LlamaRuntime(model: model, maxSequence: 32, maxBatch: 8).withSequences(2), queueLimit: 3)
        let base = Array(tokens[0].prefix(6))
        let prompts = [base, Array(tokens[0].suffix(4)), base + [tokens[0][7], tokens[0][8]], [tokens[0][2]], Array(tokens[0].prefix(3))]
        let limits = [3, 6, 5, 8, 4]
        var outputs = Array(repeating: [Int](), count: prompts.count),
            finishes = Array(repeating: ContinuousBatcher.Finish?.none, count: prompts.count)
        for (i, prompt) in prompts.enumerated() {
            var sampler = Sampler()
            sampler.temperature = 0
            let cancelAfter = i == 4 ? 2 : Int.max
            try batcher.submit(
                .init(
                    prompt: prompt, maxTokens: limits[i], sampler: sampler, stop: [],
                    onToken: {
                        outputs[i].append($0); return outputs[i].count < cancelAfter
                    }, onFinish: { finishes[i] = $0 }))
        }
        var sampler = Sampler()
        sampler.temperature = 0
        #expect(throws: ContinuousBatcher.SubmitError.queueFull(limit: 3)) {
            try batcher.submit(.init(prompt: [1], maxTokens: 1, sampler: sampler, stop: [], onToken: { _ in true }, onFinish: { _ in }))
        }
        var steps = 0
        while finishes.contains(where: { $0 == nil }) && steps < 100 {
            batcher.step()
            steps += 1
        }
        for i in 0..<4 {
            #expect(outputs[i] == (try generateAlone(model, prompts[i], maxTokens: limits[i])), "request \(i)")
            #expect(finishes[i] == .length)
        }
        #expect(outputs[4] == Array((try generateAlone(model, prompts[4], maxTokens: 2))) && finishes[4] == .cancelled)
        #expect(batcher.reusedPromptTokens >= base.count, "request 2 resends request 0's prompt")
        #expect(batcher.activeCount == 0 && batcher.queueLength == 0)
        #expect(throws: ContinuousBatcher.SubmitError.self) {
            try batcher.submit(
                .init(prompt: Array(repeating: 1, count: 32), maxTokens: 1, sampler: sampler, stop: [], onToken: { _ in true }, onFinish: { _ in }))
        }
    }
}
