import Foundation

/// Continuous batching, as llama.cpp's server and vLLM schedule generation: requests wait in a bounded
/// queue; at every step the waiting ones take free sequences of the runtime's cache (their prompts run
/// there, reusing the longest prefix a free sequence still holds, so a conversation that resends its
/// history skips it), then one batched decode step (`LlamaRuntime.decode`) advances every running
/// request by a token. A request that ends — a stop token, its token limit, the context, or
/// cancellation — leaves at once and frees its sequence for the next.
///
/// `submit` and `cancel` may be called from any thread; `step` (or `run`) from one thread at a time.
public final class ContinuousBatcher: @unchecked Sendable {
    public struct Request {
        public var prompt: [Int]
        public var maxTokens: Int
        public var sampler: Sampler
        /// Tokens that end the request (not delivered).
        public var stop: Set<Int>
        /// Holds the reply to a grammar (`response_format`'s JSON), or nil.
        public var constraint: GrammarConstraint?
        /// Hears each generated token; returning false cancels the request (its client went away).
        public var onToken: (Int) -> Bool
        public var onFinish: (Finish) -> Void

        public init(
            prompt: [Int], maxTokens: Int, sampler: Sampler, stop: Set<Int>, constraint: GrammarConstraint? = nil,
            onToken: @escaping (Int) -> Bool, onFinish: @escaping (Finish) -> Void
        ) {
            (self.prompt, self.maxTokens, self.sampler, self.stop, self.constraint) = (prompt, maxTokens, sampler, stop, constraint)
            (self.onToken, self.onFinish) = (onToken, onFinish)
        }
    }

    /// Why a request ended, in the OpenAI API's terms where it has them.
    public enum Finish: Equatable, Sendable {
        /// A stop token.
        case stop
        /// `maxTokens` generated, or the context is full.
        case length
        case cancelled
        case failed(String)
    }

    public enum SubmitError: Error, Equatable, CustomStringConvertible {
        case queueFull(limit: Int)
        case invalidRequest(String)

        public var description: String {
            switch self {
            case .queueFull(let limit): "the queue is full (\(limit) requests waiting)"
            case .invalidRequest(let message): message
            }
        }
    }

    struct Running {
        var id: Int
        var request: Request
        var history: [Int]
        var generated = 0
        /// The last sampled token, delivered but not yet in the cache.
        var pending: Int
    }

    public let runtime: LlamaRuntime
    /// Requests that may wait while every sequence is busy.
    public let queueLimit: Int
    private let condition = NSCondition()
    private var waiting: [(id: Int, request: Request)] = []
    private var cancelled: Set<Int> = []
    private var nextID = 0
    /// By sequence: the request running there, and the tokens its cache holds.
    private var running: [Running?]
    private var cached: [[Int]]
    /// Prompt tokens that did not run because a sequence's cache already held them.
    public private(set) var reusedPromptTokens = 0
    /// Hears the number of sequences each decode step advanced (set before the steps start).
    public var onDecodeStep: (Int) -> Void = { _ in }

    public init(runtime: LlamaRuntime, queueLimit: Int = 64) {
        self.runtime = runtime
        self.queueLimit = queueLimit
        running = Array(repeating: nil, count: runtime.sequences)
        cached = Array(repeating: [], count: runtime.sequences)
    }

    /// Requests waiting for a sequence.
    public var queueLength: Int { condition.withLock { waiting.count } }
    /// Requests generating now.
    public var activeCount: Int { condition.withLock { running.compactMap { $0 }.count } }

    /// Queues a request and returns its id; throws when the queue is full or the prompt cannot fit.
    @discardableResult
    public func submit(_ request: Request) throws(SubmitError) -> Int {
        guard !request.prompt.isEmpty, request.prompt.count < runtime.maxSequence, request.maxTokens > 0 else {
            throw .invalidRequest(
                "a prompt of 1...\(runtime.maxSequence - 1) tokens and max_tokens ≥ 1 fit the context of \(runtime.maxSequence); got \(request.prompt.count) tokens, max_tokens \(request.maxTokens)"
            )
        }
        condition.lock()
        defer { condition.unlock() }
        // Free sequences take requests at the next step; past them, `queueLimit` may wait.
        guard waiting.count < queueLimit + running.filter({ $0 == nil }).count else { throw .queueFull(limit: queueLimit) }
        nextID += 1
        waiting.append((nextID, request))
        condition.signal()
        return nextID
    }

    /// Ends request `id` (waiting or running) at the next step.
    public func cancel(_ id: Int) { condition.withLock { _ = cancelled.insert(id) } }

    /// Runs steps on the calling thread, waiting while there is no work, until `stop()` is true.
    public func run(until stop: () -> Bool) {
        while !stop() {
            if !step() { condition.withLock { if waiting.isEmpty { _ = condition.wait(until: Date().addingTimeInterval(0.05)) } } }
        }
    }

    /// One scheduling step: admit waiting requests to free sequences, then advance every running one
    /// by a token. Returns false when there was nothing to do.
    @discardableResult
    public func step() -> Bool {
        let (admitted, dropped) = condition.withLock { () -> ([(Int, Request, Int)], [Int: Request]) in
            var dropped: [Int: Request] = [:]
            for (id, request) in waiting where cancelled.contains(id) { dropped[id] = request }
            waiting.removeAll { cancelled.contains($0.id) }
            for (s, r) in running.enumerated() where r.map({ cancelled.contains($0.id) }) ?? false {
                dropped[r!.id] = r!.request
                running[s] = nil
            }
            cancelled.removeAll()
            var admitted: [(Int, Request, Int)] = []
            var free = running.indices.filter { running[$0] == nil }
            while !free.isEmpty, !waiting.isEmpty {
                let (id, request) = waiting.removeFirst()
                // The free sequence sharing the longest prefix with the prompt.
                let best = free.max { sharedPrefix(cached[$0], request.prompt) < sharedPrefix(cached[$1], request.prompt) }!
                free.removeAll { $0 == best }
                running[best] = Running(id: id, request: request, history: request.prompt, pending: -1)
                admitted.append((id, request, best))
            }
            return (admitted, dropped)
        }
        for request in dropped.values { request.onFinish(.cancelled) }
        // New prompts after the prefix their sequence's cache shares (at least the last token runs,
        // for its logits).
        var prompts: [(sequence: Int, tokens: [Int])] = []
        for (_, request, sequence) in admitted {
            let reused = min(sharedPrefix(cached[sequence], request.prompt), request.prompt.count - 1)
            runtime.truncate(sequence: sequence, to: reused)
            cached[sequence] = Array(cached[sequence].prefix(reused))
            reusedPromptTokens += reused
            prompts.append((sequence, Array(request.prompt[reused...])))
        }
        let decoding = running.indices.filter { running[$0] != nil && running[$0]!.pending >= 0 }
        let entries = prompts + decoding.map { ($0, [running[$0]!.pending]) }
        guard !entries.isEmpty else { return !dropped.isEmpty }
        if entries.reduce(0, { $0 + $1.tokens.count }) <= runtime.maxBatch {
            // The prompts join the decode step: one pass through the weights for all.
            run(entries, prompts: prompts.count)
        } else {
            for prompt in prompts {
                if prompt.tokens.count <= runtime.maxBatch { run([prompt], prompts: 1) } else { prefill(prompt) }
            }
            if !decoding.isEmpty { run(Array(entries.dropFirst(prompts.count)), prompts: 0) }
        }
        return true
    }

    /// A prompt longer than a step holds, alone, `maxBatch` tokens at a time.
    private func prefill(_ prompt: (sequence: Int, tokens: [Int])) {
        do {
            let logits = try runtime.forward(prompt.tokens, sequence: prompt.sequence)
            cached[prompt.sequence] = running[prompt.sequence]!.request.prompt
            advance(prompt.sequence, logits: logits)
        } catch {
            runtime.truncate(sequence: prompt.sequence, to: 0)
            cached[prompt.sequence] = []
            finish(prompt.sequence, .failed("\(error)"))
        }
    }

    /// One runtime step over `entries`, the first `prompts` of them new prompts, then each entry's
    /// request advanced by a token.
    private func run(_ entries: [(sequence: Int, tokens: [Int])], prompts: Int) {
        do {
            let logits = try runtime.step(entries)
            if entries.count > prompts { onDecodeStep(entries.count) }
            for (i, entry) in entries.enumerated() {
                if i < prompts { cached[entry.sequence] = running[entry.sequence]!.request.prompt } else { cached[entry.sequence] += entry.tokens }
                advance(entry.sequence, logits: logits[i])
            }
        } catch {
            for entry in entries {
                runtime.truncate(sequence: entry.sequence, to: 0)
                cached[entry.sequence] = []
                finish(entry.sequence, .failed("\(error)"))
            }
        }
    }

    /// Samples the request in `sequence` a token from `logits`, delivers it, and ends the request
    /// when that was its last.
    private func advance(_ sequence: Int, logits: [Float]) {
        guard var r = running[sequence] else { return }
        let token: Int
        if let constraint = r.request.constraint {
            guard let allowed = constraint.next(logits, sampler: &r.request.sampler, history: r.history) else {
                return finish(sequence, .failed("no token of the vocabulary continues the reply within its grammar"))
            }
            constraint.accept(allowed)
            token = allowed
        } else {
            token = r.request.sampler.next(logits, history: r.history)
        }
        if r.request.stop.contains(token) { return finish(sequence, .stop) }
        r.history.append(token)
        r.generated += 1
        r.pending = token
        condition.withLock { running[sequence] = r }
        guard r.request.onToken(token) else { return finish(sequence, .cancelled) }
        if r.generated >= r.request.maxTokens || runtime.lengths[sequence] >= runtime.maxSequence { finish(sequence, .length) }
    }

    private func finish(_ sequence: Int, _ reason: Finish) {
        guard let r = running[sequence] else { return }
        condition.withLock { running[sequence] = nil }
        r.request.onFinish(reason)
    }

    private func sharedPrefix(_ a: [Int], _ b: [Int]) -> Int { zip(a, b).prefix { $0 == $1 }.count }
}
