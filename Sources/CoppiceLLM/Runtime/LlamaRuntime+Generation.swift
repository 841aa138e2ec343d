import Foundation

extension LlamaRuntime {
    /// Runs `prompt`, then samples up to `maxTokens` tokens (held to `constraint`'s grammar if given),
    /// calling `onToken` as each arrives, and stops after a token of `stop` (included in the result).
    /// The cache keeps the conversation up to the last generated token, which is returned but not yet run.
    public func generate(
        prompt: [Int], maxTokens: Int, sampler: inout Sampler, stop: Set<Int>, constraint: GrammarConstraint? = nil,
        onToken: (Int) -> Void = { _ in }
    ) throws(LlamaError) -> [Int] {
        var history = prompt, generated: [Int] = []
        var logits = try forward(prompt)
        while generated.count < maxTokens {
            let token: Int
            if let constraint {
                guard let allowed = constraint.next(logits, sampler: &sampler, history: history) else {
                    throw .invalidInput("no token of the vocabulary continues the reply within its grammar")
                }
                constraint.accept(allowed)
                token = allowed
            } else {
                token = sampler.next(logits, history: history)
            }
            generated.append(token)
            history.append(token)
            onToken(token)
            if stop.contains(token) || generated.count == maxTokens || length >= maxSequence { break }
            logits = try forward([token])
        }
        return generated
    }

    /// exp(mean negative log-likelihood) of each token given those before it, over windows of
    /// `context` tokens (the cache restarts at every window; its first token is only context).
    public func perplexity(_ tokens: [Int], context: Int) throws(LlamaError) -> (perplexity: Double, tokens: Int) {
        guard context >= 2, context <= maxSequence else { throw .invalidInput("context must be in 2...\(maxSequence), got \(context)") }
        var nll = 0.0, count = 0
        let vocabulary = configuration.vocabularySize
        for start in stride(from: 0, to: tokens.count - 1, by: context) {
            let window = Array(tokens[start..<min(start + context, tokens.count)])
            guard window.count >= 2 else { break }
            reset()
            let logits = try forward(window, allLogits: true)
            for i in 0..<(window.count - 1) {
                let row = logits[(i * vocabulary)..<((i + 1) * vocabulary)]
                let top = row.max()!
                let logSum = Double(top) + log(row.reduce(0.0) { $0 + exp(Double($1 - top)) })
                nll += logSum - Double(row[row.startIndex + window[i + 1]])
                count += 1
            }
        }
        guard count > 0 else { throw .invalidInput("perplexity needs at least 2 tokens") }
        return (exp(nll / Double(count)), count)
    }
}
