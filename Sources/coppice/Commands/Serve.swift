import ArgumentParser
import CoppiceLLM
import CoppiceServe
import Foundation

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a Llama model over the OpenAI API (chat and text completions, streaming), batching concurrent requests.",
        discussion: """
            Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /metrics (Prometheus), GET /health \
            (the only one without the API key). Up to --parallel requests \
            generate together (one batched decode step for all; a new request joins at the next step), more wait in a queue of \
            --queue-limit; past that a request gets 429. Errors come as OpenAI's error JSON. response_format (json_object, \
            json_schema) and tool_choice required are held by constrained decoding: every token keeps the reply valid.
            Example:
              coppice serve --model .data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --port 8080 --parallel 4
              curl -s localhost:8080/v1/chat/completions -H 'Content-Type: application/json' \\
                -d '{"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 32}'
            """)

    @OptionGroup var llama: LlamaOptions
    @Option(help: "Address to listen on (127.0.0.1: this machine only).") var host = "127.0.0.1"
    @Option(help: "Port (0: any free one, printed at start).") var port = 8080
    @Option(help: "Requests that generate at once (sequences in the KV cache, each --context tokens).") var parallel = 4
    @Option(name: .customLong("queue-limit"), help: "Requests that may wait for a free sequence; more get 429.") var queueLimit = 64
    @Option(name: .customLong("max-tokens"), help: "The most tokens one request may generate (default: the context).") var maxTokens: Int?
    @Option(name: .customLong("api-key"), help: "Require this key (Authorization: Bearer KEY); default: none.") var apiKey: String?
    @Option(name: .customLong("api-key-file"), help: "Require one of the keys in this file (one per line).") var apiKeyFile: String?
    @Option(name: .customLong("model-name"), help: "The model's id in /v1/models and responses (default: the file or directory name).")
    var modelName: String?
    @Option(
        name: .customLong("guard"),
        help: "A Llama Guard 3 model (GGUF file or directory): chat requests and whole replies it judges unsafe are refused (400).")
    var guardModel: String?

    func validate() throws {
        guard (1...256).contains(parallel), queueLimit >= 0, maxTokens.map({ $0 > 0 }) ?? true, (0...65535).contains(port) else {
            throw ValidationError(
                "--parallel must be in 1...256, --queue-limit 0 or more, --max-tokens positive and --port in 0...65535")
        }
    }

    func run() throws {
        var keys = Set(apiKey.map { [$0] } ?? [])
        if let apiKeyFile {
            guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
                throw ValidationError("cannot read --api-key-file \(apiKeyFile)")
            }
            keys.formUnion(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        let (runtime, tokenizer) = try llama.load()
        let engine = try GenerationEngine(
            runtime: runtime.withSequences(parallel), tokenizer: tokenizer,
            modelName: modelName ?? URL(fileURLWithPath: llama.model).lastPathComponent, queueLimit: queueLimit,
            maxTokensCap: maxTokens ?? llama.context)
        var configuration = ChatServer.Configuration()
        (configuration.host, configuration.port, configuration.apiKeys) = (host, port, keys)
        let guardEngine = try guardModel.map { path in
            let (runtime, tokenizer) = try LlamaRuntime.load(model: path, tokenizer: nil, context: 4096)
            return try GenerationEngine(
                runtime: runtime, tokenizer: tokenizer, modelName: "guard", queueLimit: queueLimit + parallel, maxTokensCap: 16)
        }
        let server = ChatServer(engine: engine, configuration: configuration, safety: guardEngine.map(SafetyGuard.init(engine:)))
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do {
                try await server.run { port in
                    note("coppice serve: listening on http://\(host):\(port) (\(parallel) sequences of \(llama.context) tokens)")
                }
            } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        engine.shutdown()
        guardEngine?.shutdown()
        if let error = failure.error { throw error }
    }
}

/// The server task's error, read after it ended.
private final class FailureBox: @unchecked Sendable { var error: (any Error)? }
