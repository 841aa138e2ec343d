import CoppiceFormats
import CoppiceData
import CoppiceLLM
import CoppiceTestSupport
import CoppiceVision
import Foundation
import Testing

/// Runs the built `coppice` binary, as a user would.
@Suite struct CommandLineTests {
    /// The binary sits beside the test bundle in SwiftPM's build directory.
    static let binary: String = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" {
            directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        return directory.appendingPathComponent("coppice").path
    }()

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    @Test func helpShowsSubcommandsAndDefaults() throws {
        let top = try run(["--help"])
        #expect(top.status == 0 && top.output.contains("train") && top.output.contains("bench") && top.output.contains("eval"))
        let train = try run(["train", "image", "--help"])
        #expect(train.output.contains("default: lenet5") && train.output.contains("default: fashion-mnist") && train.output.contains("--seed"))
        let group = try run(["train", "--help"])
        #expect(group.output.contains("image (default)") && group.output.contains("dlrm"))
        let convert = try run(["convert-llama", "--help"])
        #expect(convert.output.contains("q4_1; default: f16)"), "GGUF types by name: \(convert.output)")
    }

    @Test func doctorNamesTheCPUTheLevelAndTheBackend() throws {
        struct Row: Decodable { var suite, `case`, metric: String; var value: Double }
        let report = try run(["doctor", "--format", "json"])
        #expect(report.status == 0, "\(report.error)")
        let rows = try JSONDecoder().decode([Row].self, from: Data(report.output.utf8))
        #expect(rows.contains { $0.case.hasPrefix("CPU ") } && rows.contains { $0.case.hasPrefix("GEMM ") })
        #expect(rows.first { $0.case.hasPrefix("peak FP32 FMA probe (1 thread)") }.map { $0.value > 0.1 } == true)
        let capped = try run(["doctor", "--format", "csv"], environment: ["COPPICE_ISA": "generic"])
        #expect(capped.output.contains("system,ISA generic"), "COPPICE_ISA caps the kernels' level: \(capped.output)")
        #expect(capped.output.contains("system,LLM rows generic,"), "and the model rows' level: \(capped.output)")
        // The cap reaches oneDNN's generated kernels too (where oneDNN is installed, as scripts/setup.sh does).
        let oneDNN = try run(["doctor", "--format", "csv"], environment: ["COPPICE_ISA": "avx2", "COPPICE_GEMM": "onednn"])
        #expect(oneDNN.output.contains("GEMM onednn (avx2)") || !oneDNN.output.contains("GEMM onednn"), "\(oneDNN.output)")
        #expect(oneDNN.output.contains("system,LLM rows avx2,") || !oneDNN.output.contains("system,ISA avx2 "), "\(oneDNN.output)")
    }

    @Test func badOptionsFailWithAMessage() throws {
        let result = try run(["train", "--batch-size", "0"])
        #expect(result.status != 0 && result.error.contains("batch size must be positive"))
        let missing = try run(["train", "--dataset", "mnist", "--data-dir", "/nonexistent", "--quiet"])
        #expect(missing.status != 0 && missing.error.contains("/nonexistent") && missing.error.contains("fetch-data"))
    }

    /// A directory of 8×8 MNIST-style idx files with a learnable two-class task.
    func syntheticIDXDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "coppice-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let train = syntheticImages(count: 64, seed: 3), test = syntheticImages(count: 32, seed: 4)
        for (prefix, set) in [("train", train), ("t10k", test)] {
            FileManager.default.createFile(
                atPath: "\(directory)/\(prefix)-images-idx3-ubyte.gz",
                contents: IDX.encode(dimensions: [set.count, 8, 8], values: set.pixels))
            FileManager.default.createFile(
                atPath: "\(directory)/\(prefix)-labels-idx1-ubyte.gz",
                contents: IDX.encode(dimensions: [set.count], values: set.labels.map(UInt8.init)))
        }
        return directory
    }

    @Test func pruneReportAndConvertRunEndToEnd() throws {
        let directory = try syntheticIDXDirectory()
        let output = directory + "/pruned"
        let pruned = try run([
            "prune", "--model", "mlp", "--dataset", "mnist", "--data-dir", directory, "--epochs", "2",
            "--batch-size", "16", "--sparsity", "0.8", "--pattern", "2:4", "--output", output, "--format", "json", "--quiet",
        ])
        #expect(pruned.status == 0, "\(pruned.error)")
        let rows = try JSONSerialization.jsonObject(with: Data(pruned.output.utf8)) as? [[String: Any]] ?? []
        let sparsities = rows.filter { $0["suite"] as? String == "prune" }.compactMap { $0["value"] as? Double }
        #expect(sparsities.count == 3 && sparsities.allSatisfy { Swift.abs($0 - 50) < 1e-9 }, "2:4 keeps half: \(sparsities)")
        for file in ["recipe.json", "model.sparse.safetensors", "sparsity-report.md", "sparsity-report.json", "sparsity.svg"] {
            #expect(FileManager.default.fileExists(atPath: output + "/" + file), "\(file)")
        }
        let report = try run(["report", output, "--batch-size", "4", "--format", "csv"])
        #expect(report.status == 0 && report.output.contains("whole model batch 4") && report.output.contains("speedup"), "\(report.error)")
        let dense = output + "/dense.safetensors"
        let converted = try run(["convert", output + "/model.sparse.safetensors", dense])
        #expect(converted.status == 0, "\(converted.error)")
        let again = try run([
            "prune", "--model", "mlp", "--dataset", "mnist", "--data-dir", directory, "--epochs", "1",
            "--recipe", output + "/recipe.json", "--output", directory + "/again", "--quiet",
        ])
        #expect(again.status == 0, "a saved recipe reruns: \(again.error)")
        let bad = try run(["prune", "--pattern", "3:2"])
        #expect(bad.status != 0 && bad.error.contains("N:M"))
    }

    @Test func tinyEndToEndRunTrainsEvaluatesAndResumes() throws {
        let directory = try syntheticIDXDirectory()
        let output = directory + "/run"
        let arguments = [
            "train", "--dataset", "mnist", "--data-dir", directory, "--epochs", "2", "--batch-size", "16",
            "--output", output, "--format", "json", "--quiet",
        ]
        let result = try run(arguments)
        #expect(result.status == 0, "\(result.error)")
        let rows = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
        #expect(rows?.contains { $0["metric"] as? String == "test accuracy" } == true)
        let eval = try run(["eval", output + "/checkpoint.safetensors", "--format", "csv"])
        #expect(eval.status == 0 && eval.output.contains("test accuracy"), "\(eval.error)")
        let resumed = try run(arguments + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let log = try String(contentsOfFile: output + "/log.csv", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 3, "a finished run resumes to the same end, training nothing more")
    }

    @Test func spatialWinogradRunsBothStepsAndReports() throws {
        let directory = try syntheticIDXDirectory()
        let output = directory + "/sw"
        let result = try run([
            "spatial-winograd", "--model", "vgg-fmnist", "--dataset", "mnist", "--data-dir", directory, "--epochs", "1",
            "--batch-size", "16", "--spatial-targets", "0.3,0.5", "--winograd-targets", "0.6", "--tile", "2",
            "--output", output, "--format", "json", "--quiet",
        ])
        #expect(result.status == 0, "\(result.error)")
        let data = try #require(FileManager.default.contents(atPath: output + "/results.json"))
        let stages = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        #expect(stages.map { $0["phase"] as? String } == ["dense", "spatial", "spatial", "winograd"])
        let sparsity = stages.compactMap { $0["winograd_sparsity"] as? Double }
        #expect(
            sparsity.count == 4 && sparsity[1] > 0.29 && sparsity[2] > 0.49 && sparsity[3] > 0.59 && sparsity[3] < 0.65,
            "overall includes the first layer, fixed at 20%: \(sparsity)")
        for file in ["recipe.json", "results.md", "accuracy-vs-sparsity.svg", "report.html", "sparsity-report.md", "model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: output + "/" + file), "\(file)")
        }
        let linear = stages.compactMap { $0["linear_sparsity"] as? Double }
        #expect(
            linear.count == 4 && linear[0] == 0 && linear[3] > 0.85, "the hidden Linear pruned to the default 90% over the spatial stages: \(linear)")
        let report = try run(["report", output, "--format", "json"])
        #expect(report.status == 0 && report.output.contains("WinogradConv2D"), "the saved Winograd layers reload: \(report.error)")
        #expect(report.output.contains("FLOP sparsity"))
        let eval = try run(["eval", output, "--batch-size", "8", "--format", "json"])
        let evalRows = try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [[String: Any]] ?? []
        let accuracy = Dictionary(
            uniqueKeysWithValues: evalRows.compactMap { row in (row["metric"] as? String).map { ($0, row["value"] as? Double ?? .nan) } })
        #expect(eval.status == 0, "\(eval.error)")
        if let inference = accuracy["test accuracy"], let trained = accuracy["test accuracy as trained"] {
            #expect(abs(inference - trained) <= 2, "the inference form (folded, sparse paths) classifies as the trained model: \(accuracy)")
        } else {
            Issue.record("coppice eval RUN printed no accuracies: \(eval.output)")
        }
        let again = try run([
            "spatial-winograd", "--dataset", "mnist", "--data-dir", directory, "--recipe", output + "/recipe.json",
            "--from", output + "/dense", "--epochs", "1", "--output", directory + "/again", "--quiet",
        ])
        #expect(again.status == 0, "a saved recipe reruns from the dense run: \(again.error)")
        for recipe in ["vgg-nagadomi-cifar10", "convpool-cnn-c-cifar100"] {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/recipes/\(recipe).json").path
            #expect(throws: Never.self, "the paper's schedules in docs/recipes load") { try SpatialWinogradRecipe.load(from: path) }
        }
        let bad = try run(["spatial-winograd", "--tile", "3"])
        #expect(bad.status != 0 && bad.error.contains("--tile must be 2 or 4"))
        let badSizes = try run(["spatial-winograd", "--report-batch-sizes", "1,0"])
        #expect(badSizes.status != 0 && badSizes.error.contains("--report-batch-sizes"))
        let badLinear = try run(["spatial-winograd", "--linear-sparsity", "1"])
        #expect(badLinear.status != 0 && badLinear.error.contains("--linear-sparsity"))
    }

    @Test func dlrmTrainsOnTheSyntheticStreamAndReportsCTRMetrics() throws {
        let result = try run([
            "dlrm", "--dataset", "synthetic", "--synthetic-rows", "4000", "--arch-sparse-feature-size", "8",
            "--nepochs", "2", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.error)")
        let rows = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]] ?? []
        let metrics = Dictionary(
            uniqueKeysWithValues: rows.compactMap { row in (row["metric"] as? String).map { ($0, row["value"] as? Double ?? .nan) } })
        #expect(metrics["AUC"].map { $0 > 0.55 && $0 <= 1 } == true, "the planted truth is learnable: \(metrics)")
        #expect(metrics["NE"].map { $0 > 0 && $0 < 1.2 } == true && metrics["log loss"] != nil)
        let amgp = try run([
            "dlrm", "--dataset", "synthetic", "--synthetic-rows", "4000", "--arch-sparse-feature-size", "8",
            "--amgp-phases", "0,0.5,0", "--format", "json",
        ])
        let dense = try run(["dlrm", "--dataset", "synthetic", "--synthetic-rows", "4000", "--arch-sparse-feature-size", "8", "--format", "json"])
        func flops(_ output: String) throws -> Double {
            let rows = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
            return rows.first { $0["metric"] as? String == "training FLOPs" }?["value"] as? Double ?? .nan
        }
        #expect(amgp.status == 0 && dense.status == 0, "\(amgp.error)")
        #expect(try flops(amgp.output) < 0.9 * flops(dense.output), "a sparse phase makes the GEMMs smaller")
        let badPhase = try run(["dlrm", "--dataset", "synthetic", "--synthetic-rows", "400", "--amgp-phases", "0,1.5"])
        #expect(badPhase.status != 0 && badPhase.error.contains("--amgp-phases"))
        let bad = try run(["dlrm", "--arch-mlp-top", "64--1"])
        #expect(bad.status != 0 && bad.error.contains("dash-separated"))
        let seeds = try run([
            "dlrm", "--dataset", "synthetic", "--synthetic-rows", "2000", "--arch-sparse-feature-size", "8",
            "--amgp-phases", "0,0.5,0", "--compare", "--seeds", "3,4",
        ])
        #expect(seeds.status == 0 && seeds.output.contains("seed 4\n") && seeds.output.contains("mean ΔNE [95% CI]"), "\(seeds.error)")
        // The same comparison in two processes (one seed each) into a report directory: the same runs.
        let directory = NSTemporaryDirectory() + "coppice-seeds-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let jobs = try run([
            "dlrm", "--dataset", "synthetic-teacher", "--synthetic-rows", "2000", "--arch-sparse-feature-size", "8",
            "--amgp-phases", "0,0.5,0", "--compare", "--seeds", "3-4", "--jobs", "2", "--report-dir", directory, "--format", "csv",
        ])
        let serial = try run([
            "dlrm", "--dataset", "synthetic-teacher", "--synthetic-rows", "2000", "--arch-sparse-feature-size", "8",
            "--amgp-phases", "0,0.5,0", "--compare", "--seeds", "3,4", "--format", "csv",
        ])
        #expect(jobs.status == 0 && serial.status == 0, "\(jobs.error)")
        // Every column but the train time.
        func withoutTimes(_ csv: String) -> [String] { csv.split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") } }
        #expect(withoutTimes(jobs.output) == withoutTimes(serial.output) && withoutTimes(jobs.output).count == 9, "\(jobs.output)\n\(serial.output)")
        for file in ["summary.md", "summary.csv", "seeds.csv", "report.json", "seeds.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory + "/" + file), "\(file)")
        }
        let summary = (try? String(contentsOfFile: directory + "/summary.md", encoding: .utf8)) ?? ""
        #expect(summary.contains("| small dense |") && summary.contains("not judged: 2 seeds"), "\(summary)")
        let csv = try run([
            "dlrm", "--dataset", "synthetic", "--synthetic-rows", "2000", "--arch-sparse-feature-size", "8",
            "--amgp-phases", "0,0.5,0", "--compare", "--seeds", "3,4", "--format", "csv",
        ])
        let lines = csv.output.split(separator: "\n")
        #expect(csv.status == 0 && lines.first == "seed,run,bottom_mlp,top_mlp,phases,ne,auc,log_loss,training_flops,train_seconds", "\(csv.error)")
        #expect(lines.count == 9 && lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 10 })
        #expect(lines.contains { $0.hasPrefix("4,AMGP,") && $0.contains(",0;0.5;0,") }, "\(csv.output)")
        let badSeeds = try run(["dlrm", "--compare", "--seeds", "1,x"])
        #expect(badSeeds.status != 0 && badSeeds.error.contains("--seeds"))
    }

    /// `coppice train dlrm` on the Criteo sample: the text is parsed once into a binary cache beside
    /// it, days 1-6 train and the second half of day 7 tests.
    @Test func trainDLRMStreamsTheCriteoFileThroughItsCache() throws {
        let directory = NSTemporaryDirectory() + "coppice-criteo-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../CoppiceRecTests/Fixtures/criteo_sample.csv"
        ).path
        try FileManager.default.copyItem(atPath: sample, toPath: directory + "/sample.csv")
        let arguments = [
            "train", "dlrm", "--dataset", "criteo-kaggle", "--raw-data-file", directory + "/sample.csv", "--max-ind-range", "1000",
            "--arch-sparse-feature-size", "4", "--format", "json",
        ]
        let first = try run(arguments)
        #expect(first.status == 0 && first.error.contains("200 rows cached"), "\(first.error)")
        #expect(FileManager.default.fileExists(atPath: directory + "/sample.csv.cpcache"))
        func quality(_ output: String) throws -> [String: Double] {
            let rows = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
            return Dictionary(
                uniqueKeysWithValues: rows.compactMap { row in
                    (row["metric"] as? String).flatMap { ["NE", "AUC", "log loss"].contains($0) ? ($0, row["value"] as? Double ?? .nan) : nil }
                })
        }
        let again = try run(arguments)
        let (firstQuality, againQuality) = (try quality(first.output), try quality(again.output))
        #expect(firstQuality.count == 3)
        #expect(again.status == 0 && !again.error.contains("building") && againQuality == firstQuality, "the cache gives the same run")
        let missing = try run(["train", "dlrm", "--dataset", "criteo-kaggle"])
        #expect(missing.status != 0 && missing.error.contains("--raw-data-file"))
    }

    @Test func onlineRunsWritesLogsAndResumes() throws {
        let out = NSTemporaryDirectory() + "coppice-online-\(UUID().uuidString)"
        let arguments = [
            "online", "--dataset", "synthetic", "--drift", "gradual:3000", "--chunk-size", "500", "--chunks", "5", "--pretrain-chunks", "2",
            "--arch-mlp-bot", "13-16-8", "--arch-mlp-top", "16-1", "--arch-sparse-feature-size", "8", "--schedules", "r1,once",
            "--pruning", "learned,global", "--learned-steps", "5", "--sparsity", "0.8", "--format", "json", "--output", out,
        ]
        let result = try run(arguments)
        #expect(result.status == 0, "\(result.error)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let rows = summary?["rows"] as? [[String: Any]] ?? []
        #expect(rows.map { $0["model"] as? String ?? "" } == ["dense", "d2s-r1-learned", "prune-once-learned", "d2s-r1-global", "prune-once-global"])
        #expect((summary?["inference"] as? [[String: Any]])?.count == 8, "4 serving models × batch 1 and 512")
        for file in ["metrics.csv", "metrics.jsonl", "ne.svg", "summary.md", "checkpoint.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let csv = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 3 * 5)
        let resumed = try run(arguments + ["--resume"])
        let after = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8)
        #expect(resumed.status == 0 && after == csv, "a finished run resumes to the same logs")
        let bad = try run(["online", "--schedules", "r0"])
        #expect(bad.status != 0 && bad.error.contains("--schedules"))
    }

    /// A tiny Llama trained from scratch with the Llama 3 tokenizer, then used by generate,
    /// perplexity and chat.
    @Test func llamaTrainsGeneratesAndScores() throws {
        let directory = NSTemporaryDirectory() + "coppice-llama-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = String(
            repeating: "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. ",
            count: 20)
        try text.write(toFile: directory + "/train.txt", atomically: true, encoding: .utf8)
        try text.write(toFile: directory + "/held.txt", atomically: true, encoding: .utf8)
        let tokenizer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".data/llama3/tokenizer.model").path
        let trained = try run([
            "train", "llama", "--text", directory + "/train.txt", "--held-out", directory + "/held.txt", "--tokenizer", tokenizer,
            "--dim", "16", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--sequence-length", "16", "--batch-size", "2",
            "--steps", "12", "--lr", "0.01", "--output", directory + "/model",
        ])
        #expect(trained.status == 0 && trained.output.contains("held-out perplexity"), "\(trained.error)")
        let result =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/model/result.json"))) as? [String: Any]
        let (before, after) = (result?["initialPerplexity"] as? Double ?? 0, result?["finalPerplexity"] as? Double ?? .infinity)
        #expect(after < before, "\(before) → \(after)")
        let common = ["--model", directory + "/model", "--tokenizer", tokenizer, "--context", "64"]
        let generated = try run(["generate"] + common + ["--prompt", "It is a truth", "--max-tokens", "5", "--temperature", "0"])
        #expect(generated.status == 0 && generated.error.contains("5 generated tokens"), "\(generated.error)")
        let scored = try run(["perplexity"] + common + ["--text", directory + "/held.txt", "--window", "16", "--max-tokens", "64"])
        #expect(scored.status == 0 && scored.output.hasPrefix("perplexity "), "\(scored.error)")
        let bfloat = try run(["generate"] + common + ["--prompt", "It is a truth", "--max-tokens", "3", "--weight-type", "bf16"])
        #expect(bfloat.status == 0 && bfloat.error.contains("3 generated tokens"), "\(bfloat.error)")
        let blocks = try run(["generate"] + common + ["--prompt", "x", "--weight-type", "q4_0"])
        #expect(blocks.status != 0 && blocks.error.contains("blocks of 32") && blocks.error.contains("16"), "\(blocks.error)")
        // The trained directory as a GGUF file: it runs as stored, greedy text equal to the directory's at F16.
        let gguf = directory + "/model-f16.gguf"
        let converted = try run(["convert-llama", directory + "/model", gguf, "--tokenizer", tokenizer])
        #expect(converted.status == 0 && FileManager.default.fileExists(atPath: gguf), "\(converted.error)")
        let greedy = ["--tokenizer", tokenizer, "--context", "64", "--prompt", "It is a truth", "--max-tokens", "6", "--temperature", "0"]
        let fromDirectory = try run(["generate", "--model", directory + "/model", "--weight-type", "f16"] + greedy)
        let fromGGUF = try run(["generate", "--model", gguf] + greedy)
        #expect(
            fromDirectory.status == 0 && fromGGUF.status == 0 && fromGGUF.error.contains("6 generated tokens")
                && fromGGUF.output == fromDirectory.output,
            "\(fromGGUF.output) vs \(fromDirectory.output): \(fromGGUF.error)")
        // Constrained: a tiny model's reply is still JSON of the schema; a schema beyond the subset is refused before loading.
        let schema = #"{"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"]}"#
        let constrained = try run([
            "generate", "--model", gguf, "--tokenizer", tokenizer, "--context", "256", "--prompt", "It is a truth", "--max-tokens", "200",
            "--temperature", "0", "--json-schema", schema,
        ])
        #expect(constrained.status == 0 && ["{\"answer\":\"yes\"}", "{\"answer\":\"no\"}"].contains(constrained.output.filter { !$0.isWhitespace }))
        let refused = try run(["generate", "--model", gguf, "--prompt", "x", "--json-schema", #"{"type": "string", "format": "date"}"#])
        #expect(refused.status != 0 && refused.error.contains("\"format\" is not supported"), "\(refused.error)")
        let speed = try run(["bench", "llm", "--model", gguf, "-p", "8", "-n", "4", "-r", "1", "--format", "csv"])
        #expect(speed.status == 0 && speed.output.contains("pp8") && speed.output.contains("tg4"), "\(speed.error)")
        // Served over HTTP in the Llama 3 chat format (the file's vocabulary names it).
        let server = try ServeTests.Server([], model: gguf, context: 64)
        let served = try server.request(
            "/v1/chat/completions", body: #"{"messages": [{"role": "user", "content": "It is a truth"}], "max_tokens": 4, "temperature": 0}"#)
        server.stop()
        let prompt = try ChatFormat(tokenizer: try Llama3Tokenizer(path: tokenizer)).encodeDialogPrompt([ChatMessage(.user, "It is a truth")])
        #expect(served.status == 200 && served.body.contains(#""prompt_tokens":\#(prompt.count)"#), "\(served.body)")
        let narrow = try run(["convert-llama", directory + "/model", directory + "/q4.gguf", "--type", "q4_0", "--tokenizer", tokenizer])
        #expect(
            narrow.status != 0 && narrow.error.contains("blocks of 32") && !FileManager.default.fileExists(atPath: directory + "/q4.gguf"),
            "\(narrow.error)")
        // Pruned one-shot (Wanda, 2:4) and written as GGUF: the file holds the pattern and scores as the run reported.
        let pruned = directory + "/pruned.gguf"
        let pruning = try run([
            "prune-llm", "--model", gguf, "--tokenizer", tokenizer, "--context", "64", "--method", "wanda", "--sparsity", "2:4",
            "--calibration", directory + "/train.txt", "--calibration-sequences", "2", "--sequence-length", "16", "--eval",
            directory + "/held.txt", "--eval-tokens", "64", "--output", pruned, "--type", "f32",
        ])
        #expect(pruning.status == 0 && pruning.output.contains("7 matrices, mean sparsity 50.00%"), "\(pruning.output) \(pruning.error)")
        let up = try GGUFFile(path: pruned).tensor("blk.0.ffn_up.weight").scalars
        #expect(stride(from: 0, to: up.count, by: 4).allSatisfy { g in up[g..<(g + 4)].filter { $0 == 0 }.count >= 2 })
        // "…: 812.345 dense, 901.234 pruned" then "perplexity 901.2345 over …"
        func number(before word: String, in text: String) -> Double? {
            let words = text.split(whereSeparator: \.isWhitespace).map { $0.trimmingCharacters(in: .punctuationCharacters) }
            return words.lastIndex(of: word).flatMap { $0 > 0 ? Double(words[$0 - 1]) : nil }
        }
        let rescored = try run([
            "perplexity", "--model", pruned, "--tokenizer", tokenizer, "--context", "64", "--text", directory + "/held.txt", "--window", "16",
            "--max-tokens", "64",
        ])
        let (reported, measured) = (number(before: "pruned", in: pruning.output), number(before: "over", in: rescored.output))
        #expect(reported != nil && measured != nil && abs(measured! / reported! - 1) < 1e-3, "\(rescored.output) vs \(pruning.output)")
        // Into a directory: the model, its recipe and a report whose numbers are the run's.
        let reportDirectory = directory + "/pruned-run"
        let intoDirectory = try run([
            "prune-llm", "--model", gguf, "--tokenizer", tokenizer, "--context", "64", "--method", "magnitude", "--sparsity", "0.5",
            "--eval", directory + "/held.txt", "--eval-tokens", "64", "--sequence-length", "16", "--speed-tokens", "8",
            "--output", reportDirectory,
        ])
        #expect(intoDirectory.status == 0, "\(intoDirectory.error)")
        let report = try JSONDecoder().decode(LlamaPruningReport.self, from: Data(contentsOf: URL(fileURLWithPath: reportDirectory + "/report.json")))
        #expect(report.matrices.count == 7 && report.recipe.method == "magnitude" && abs(report.meanSparsity - 0.5) < 0.01)
        #expect(report.perplexity.map { $0.pruned > 0 && abs($0.pruned - number(before: "pruned", in: intoDirectory.output)!) < 1e-3 } == true)
        #expect(report.dense.map { $0.decodeTokensPerSecond > 0 && $0.weightMBPerToken > 0 } == true && report.sparse != nil)
        #expect(["model.gguf", "recipe.json", "report.md"].allSatisfy { FileManager.default.fileExists(atPath: reportDirectory + "/" + $0) })
        // The directory is also a Hugging Face model, its pruned matrices in sparse safetensors, that runs as the run scored it.
        #expect(try SafetensorsFile(path: reportDirectory + "/model.safetensors").names.contains("model.layers.0.mlp.up_proj.weight.csr_values"))
        let prunedDirectory = try run([
            "perplexity", "--model", reportDirectory, "--context", "64", "--text", directory + "/held.txt", "--window", "16", "--max-tokens", "64",
        ])
        let rescoredDirectory = number(before: "over", in: prunedDirectory.output)
        #expect(rescoredDirectory.map { abs($0 - report.perplexity!.pruned) < 1e-3 } == true, "\(prunedDirectory.output) \(prunedDirectory.error)")
        let lossy = try run(["prune-llm", "--model", gguf, "--output", directory + "/x.gguf", "--type", "q4_1"])
        #expect(lossy.status != 0 && lossy.error.contains("q4_1"))
        let bad = try run(["generate"] + common + ["--prompt", "x", "--top-p", "0"])
        #expect(bad.status != 0 && bad.error.contains("top-p"))
        let missing = try run(["generate", "--model", "/nonexistent", "--prompt", "x"])
        #expect(missing.status != 0 && missing.error.contains("config.json"))
    }
}
