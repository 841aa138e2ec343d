import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `coppice serve` on SmolLM2-135M-Instruct (the GGUF `scripts/fetch-data.sh` brings), started as a
/// user would on a free loopback port and driven over HTTP.
@Suite(.serialized) struct ServeTests {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// A running server and its port; `stop()` ends it with SIGTERM (a graceful shutdown).
    struct Server {
        let process: Process
        let port: Int

        init(_ arguments: [String], model: String = ServeTests.model, context: Int = 512) throws {
            process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLineTests.binary)
            process.arguments = ["serve", "--model", model, "--port", "0", "--context", "\(context)"] + arguments
            let err = Pipe()
            (process.standardOutput, process.standardError) = (FileHandle.nullDevice, err)
            try process.run()
            var text = "", port: Int?
            let started = Date()
            while port == nil && process.isRunning && Date().timeIntervalSince(started) < 60 {
                let data = err.fileHandleForReading.availableData
                text += String(decoding: data, as: UTF8.self)
                if let range = text.range(of: "listening on http://127.0.0.1:") {
                    port = Int(text[range.upperBound...].prefix { $0.isNumber })
                }
            }
            self.port = try #require(port, "the server did not start: \(text)")
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }

        func request(_ path: String, body: String? = nil, key: String? = "test-key") throws -> (status: Int, body: String) {
            try ServeTests.request(port: port, path, body: body, key: key)
        }
    }

    /// Status and body of a request to the server on `port` (JSON `body` POSTed when given).
    static func request(port: Int, _ path: String, body: String? = nil, key: String? = "test-key") throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 120
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String)?
        URLSession.shared.dataTask(with: request) { data, response, _ in
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        done.wait()
        return try #require(result)
    }

    func object(_ text: String) throws -> [String: Any] { try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) }

    func chat(_ content: String, maxTokens: Int, stream: Bool = false) -> String {
        """
        {"messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "\(content)"}],
         "max_tokens": \(maxTokens), "temperature": 0, "stream": \(stream), "stream_options": {"include_usage": true}}
        """
    }

    /// The content of a chat completion, or of a stream's deltas put together (with its finish reason).
    func reply(_ body: String, stream: Bool) throws -> (text: String, finish: String?) {
        guard stream else {
            let choice = try #require((try object(body)["choices"] as? [[String: Any]])?.first)
            return ((choice["message"] as? [String: Any])?["content"] as? String ?? "", choice["finish_reason"] as? String)
        }
        let events = body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.allSatisfy { $0.hasPrefix("data: ") } && events.last == "data: [DONE]", "\(body)")
        var text = "", finish: String?
        for event in events.dropLast() {
            let choice = try #require((try object(String(event.dropFirst(6)))["choices"] as? [[String: Any]])?.first)
            text += (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
            finish = choice["finish_reason"] as? String ?? finish
        }
        return (text, finish)
    }

    /// Chat (whole and streamed, the same greedy reply), text completion with a stop string, the
    /// model list, API keys, and errors in OpenAI's shape: malformed JSON, a missing field, an unknown
    /// route, a body too large, a prompt longer than the context.
    @Test func servesTheOpenAIAPI() throws {
        // F32 weights: a batched step then rounds as one sequence's does (on the file's Q4_1 blocks the
        // several-row kernels round otherwise, as prefill does, and greedy replies can part).
        let server = try Server(["--parallel", "2", "--api-key", "test-key", "--weight-type", "f32"])
        defer { server.stop() }
        #expect(try server.request("/health", key: nil).status == 200)
        #expect(try server.request("/v1/models", key: nil).status == 401)
        #expect(try server.request("/v1/models", key: "wrong").status == 401)
        let models = try server.request("/v1/models")
        #expect(models.status == 200 && models.body.contains("SmolLM2-135M-Instruct.Q4_1.gguf"), "\(models.body)")

        let whole = try server.request("/v1/chat/completions", body: chat("What is the capital of France?", maxTokens: 12))
        #expect(whole.status == 200, "\(whole.body)")
        let usage = try #require(try object(whole.body)["usage"] as? [String: Int])
        #expect(usage["completion_tokens"] == 12 && usage["prompt_tokens"]! > 10 && usage["total_tokens"] == usage["prompt_tokens"]! + 12)
        let streamed = try server.request("/v1/chat/completions", body: chat("What is the capital of France?", maxTokens: 12, stream: true))
        #expect(streamed.status == 200 && streamed.body.contains("\"usage\""))
        let (a, b) = (try reply(whole.body, stream: false), try reply(streamed.body, stream: true))
        #expect(!a.text.isEmpty && a == b && a.finish == "length", "\(a) \(b)")
        // Two at once, decoded in the same batched steps: each gets its reply alone.
        let prompts = ["What is the capital of France?", "Name a fruit."]
        let alone = try prompts.map { try reply(try server.request("/v1/chat/completions", body: chat($0, maxTokens: 12)).body, stream: false) }
        nonisolated(unsafe) var together = [(String, String?)](repeating: ("", nil), count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            together[i] =
                (try? reply(try server.request("/v1/chat/completions", body: chat(prompts[i], maxTokens: 12)).body, stream: false)) ?? ("", nil)
        }
        #expect(together[0] == alone[0] && together[1] == alone[1], "\(together) \(alone)")

        let completion = try server.request(
            "/v1/completions", body: #"{"prompt": "The capital of France is", "max_tokens": 20, "temperature": 0, "stop": ["."]}"#)
        let choice = try #require((try object(completion.body)["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] as? String == "stop" && !(choice["text"] as? String ?? ".").contains("."), "\(completion.body)")

        for (body, status, code) in [
            (#"{"messages": ["#, 400, "invalid_request_error"), (#"{"model": "x"}"#, 400, "missing field 'messages'"),
            (#"{"messages": [{"role": "robot", "content": "hi"}]}"#, 400, "unknown message role"),
            (chat(String(repeating: "hello ", count: 600), maxTokens: 4), 400, "context_length_exceeded"),
            ("{\"messages\": [], \"pad\": \"" + String(repeating: "x", count: 1 << 21) + "\"}", 413, "request_too_large"),
        ] {
            let result = try server.request("/v1/chat/completions", body: body)
            #expect(result.status == status && result.body.contains("\"error\"") && result.body.contains(code), "\(result.status) \(result.body)")
        }
        let missing = try server.request("/v2/nothing")
        #expect(missing.status == 404 && missing.body.contains("not_found"))

        // Prometheus metrics: the requests above by endpoint and status, tokens, latency histograms.
        let metrics = try server.request("/metrics")
        for line in [
            #"coppice_requests_total{endpoint="/v1/chat/completions",status="200"} 6"#, #"status="413"} 1"#, #"endpoint="other",status="404"} 1"#,
            "coppice_completion_tokens_total ", "coppice_time_to_first_token_seconds_count 7", "coppice_inter_token_latency_seconds_bucket",
            "coppice_batch_occupancy_bucket",
        ] {
            #expect(metrics.status == 200 && metrics.body.contains(line), "\(line) in \(metrics.body)")
        }
    }

    /// `response_format`: a schema's reply is JSON of the schema with its properties in the schema's
    /// order (streamed too), `json_object` gives an object, a required tool call is a call, and a
    /// schema outside the subset is a 400.
    @Test func holdsRepliesToResponseFormat() throws {
        let server = try Server(["--parallel", "2"])
        defer { server.stop() }
        let schema = """
            {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}, "country": {"type": "string", "maxLength": 20},
             "population_millions": {"type": "number"}, "capital": {"type": "boolean"}}, "required": ["city", "country", "population_millions", "capital"]}
            """
        let format = #", "response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": \#(schema)}}}"#
        for stream in [false, true] {
            let body =
                String(
                    chat("Describe Paris as JSON with keys city, country, population_millions, capital.", maxTokens: 80, stream: stream).dropLast(1))
                + format
            let result = try server.request("/v1/chat/completions", body: body)
            let (text, finish) = try reply(result.body, stream: stream)
            #expect(result.status == 200 && finish == "stop", "\(result.body)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
            #expect(object["city"] is String && object["country"] is String && object["population_millions"] is NSNumber && object["capital"] is Bool)
            let order = ["city", "country", "population_millions", "capital"].compactMap { text.range(of: "\"\($0)\"")?.lowerBound }
            #expect(order.count == 4 && order == order.sorted(), "\(text)")
        }
        let objectBody = #"""
            {"messages": [{"role": "user", "content": "Describe Paris as JSON."}], "max_tokens": 60, "temperature": 0,
             "response_format": {"type": "json_object"}}
            """#
        let (text, finish) = try reply(try server.request("/v1/chat/completions", body: objectBody).body, stream: false)
        #expect(finish == "stop" && (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any], "\(text)")
        // tool_choice "required": the reply is held to a call of an offered function, whatever the model.
        let tools = #"""
            {"messages": [{"role": "user", "content": "What is the weather in Paris?"}], "max_tokens": 60, "temperature": 0,
             "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
                "properties": {"city": {"type": "string", "maxLength": 30}}, "required": ["city"]}}}], "tool_choice": "required"}
            """#
        let called = try #require((try object(try server.request("/v1/chat/completions", body: tools).body)["choices"] as? [[String: Any]])?.first)
        let function = try #require(
            (((called["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first)?["function"] as? [String: Any])
        let arguments = try object(try #require(function["arguments"] as? String))
        #expect(called["finish_reason"] as? String == "tool_calls" && function["name"] as? String == "get_weather" && arguments["city"] is String)
        let unsupported =
            String(chat("Hi", maxTokens: 4).dropLast(1))
            + #", "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "integer", "minimum": 3}}}}"#
        let refused = try server.request("/v1/chat/completions", body: unsupported)
        #expect(refused.status == 400 && refused.body.contains("minimum"), "\(refused.body)")
    }

    /// One sequence, no queue: a client that disconnects mid-stream frees the sequence at once (the
    /// next request gets the same greedy reply as before, without waiting), and while a request runs
    /// another is refused with 429.
    @Test func refusesWhenFullAndFreesCancelledOnes() throws {
        let server = try Server(["--parallel", "1", "--queue-limit", "0"], context: 4096)
        defer { server.stop() }
        let alone = try reply(try server.request("/v1/chat/completions", body: chat("Name a fruit.", maxTokens: 8)).body, stream: false)
        // A long stream (3,000 tokens, 10 s or more here), dropped after its first bytes: the next request
        // must not wait for it.
        try disconnectAfterFirstBytes(port: server.port, body: chat("Count to one thousand.", maxTokens: 3000, stream: true))
        let started = Date()
        var again: (status: Int, body: String) = (0, "")
        while Date().timeIntervalSince(started) < 30 {
            again = try server.request("/v1/chat/completions", body: chat("Name a fruit.", maxTokens: 8))
            if again.status != 429 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let repeated = again.status == 200 ? try reply(again.body, stream: false) : ("", nil)
        #expect(again.status == 200 && repeated == alone, "\(again.body)")
        #expect(Date().timeIntervalSince(started) < 5, "the cancelled stream still held the only sequence")

        // One sequence, no queue: while a long request runs, another is refused.
        let long = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var longStatus = 0
        DispatchQueue.global().async {
            longStatus = (try? server.request("/v1/chat/completions", body: chat("Tell a long story.", maxTokens: 200)).status) ?? 0
            long.signal()
        }
        Thread.sleep(forTimeInterval: 0.5)
        let refused = try server.request("/v1/chat/completions", body: chat("Hi", maxTokens: 4))
        #expect(refused.status == 429 && refused.body.contains("queue_full"), "\(refused.body)")
        long.wait()
        #expect(longStatus == 200)
    }

    /// Sends `body` to /v1/chat/completions over a plain socket, reads until the first streamed
    /// event arrives, and closes the connection.
    func disconnectAfterFirstBytes(port: Int, body: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let request =
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            + body
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 4096), received = ""
        while !received.contains("data: ") {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            received += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        #expect(received.contains("200") && received.contains("data: "), "\(received)")
    }
}
