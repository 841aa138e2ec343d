import CoppiceData
import Foundation
import Testing

/// Runs the built `coppice` binary, as a user would.
@Suite struct CommandLineTests {
    /// The binary sits beside the test bundle in SwiftPM's build directory.
    static let binary: String = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" { directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return directory.appendingPathComponent("coppice").path
    }()

    func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
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
        let train = try run(["train", "--help"])
        #expect(train.output.contains("default: lenet5") && train.output.contains("default: fashion-mnist") && train.output.contains("--seed"))
    }

    @Test func badOptionsFailWithAMessage() throws {
        let result = try run(["train", "--batch-size", "0"])
        #expect(result.status != 0 && result.error.contains("batch size must be positive"))
        let missing = try run(["train", "--dataset", "mnist", "--data-dir", "/nonexistent", "--quiet"])
        #expect(missing.status != 0 && missing.error.contains("/nonexistent") && missing.error.contains("fetch-data"))
    }

    @Test func tinyEndToEndRunTrainsEvaluatesAndResumes() throws {
        let directory = NSTemporaryDirectory() + "coppice-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let train = syntheticImages(count: 64, seed: 3), test = syntheticImages(count: 32, seed: 4)
        // 8×8 images stored as MNIST-style idx files.
        for (prefix, set) in [("train", train), ("t10k", test)] {
            FileManager.default.createFile(atPath: "\(directory)/\(prefix)-images-idx3-ubyte.gz",
                                           contents: IDX.encode(dimensions: [set.count, 8, 8], values: set.pixels))
            FileManager.default.createFile(atPath: "\(directory)/\(prefix)-labels-idx1-ubyte.gz",
                                           contents: IDX.encode(dimensions: [set.count], values: set.labels.map(UInt8.init)))
        }
        let output = directory + "/run"
        let arguments = ["train", "--dataset", "mnist", "--data-dir", directory, "--epochs", "2", "--batch-size", "16",
                         "--output", output, "--format", "json", "--quiet"]
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
}
