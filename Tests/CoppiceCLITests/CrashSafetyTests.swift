import CoppiceFormats
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` at points spread over a training run (most of a tiny run's time is spent writing its
/// checkpoint, logs and report, so most points land inside a write): what is on disk afterwards
/// loads, and `--resume` ends with the same per-epoch losses and accuracies as the run never killed.
@Suite struct CrashSafetyTests {
    let cli = CommandLineTests()

    /// Epoch, step, losses, accuracies and learning rate of each row of a run's log.csv (not its times).
    func history(_ directory: String) throws -> [String] {
        try String(contentsOfFile: directory + "/log.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").dropLast().joined(separator: ",") }
    }

    /// Starts the binary with `arguments` and sends it SIGKILL after `seconds`.
    func killed(_ arguments: [String], after seconds: Double) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: seconds)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    @Test func aTrainingRunKilledAnywhereResumesToTheSameResult() throws {
        let data = try cli.syntheticIDXDirectory()
        func arguments(_ output: String) -> [String] {
            [
                "train", "--model", "mlp", "--dataset", "mnist", "--data-dir", data, "--epochs", "12", "--batch-size", "16",
                "--output", output, "--quiet", "--format", "json",
            ]
        }
        let started = Date()
        let whole = try cli.run(arguments(data + "/whole"))
        let duration = Date().timeIntervalSince(started)
        #expect(whole.status == 0, "\(whole.error)")
        let expected = try history(data + "/whole")
        #expect(expected.count == 12)
        for fraction in [0.1, 0.25, 0.4, 0.55, 0.7, 0.85] {
            let output = data + "/killed-\(fraction)"
            try killed(arguments(output), after: duration * fraction)
            let checkpoint = output + "/checkpoint.safetensors"
            if FileManager.default.fileExists(atPath: checkpoint) {
                #expect(throws: Never.self, "killed at \(fraction): the checkpoint on disk loads") { try SafetensorsFile(path: checkpoint).tensors() }
            }
            let resumed = try cli.run(arguments(output) + ["--resume"])
            #expect(resumed.status == 0, "killed at \(fraction): \(resumed.error)")
            #expect(try history(output) == expected, "killed at \(fraction) of the run, resumed")
        }
    }

    @Test func anOnlineRunKilledAnywhereResumesToTheSameMetrics() throws {
        let directory = try cli.syntheticIDXDirectory()
        func arguments(_ output: String) -> [String] {
            [
                "online", "--dataset", "synthetic", "--chunk-size", "500", "--chunks", "8", "--pretrain-chunks", "1", "--learned-steps", "2",
                "--schedules", "r2", "--pruning", "uniform", "--arch-mlp-bot", "13-16", "--arch-mlp-top", "32-1", "--output", output,
            ]
        }
        let started = Date()
        let whole = try cli.run(arguments(directory + "/whole"))
        let duration = Date().timeIntervalSince(started)
        #expect(whole.status == 0, "\(whole.error)")
        let expected = try String(contentsOfFile: directory + "/whole/metrics.csv", encoding: .utf8)
        for fraction in [0.1, 0.35, 0.6] {
            let output = directory + "/killed-\(fraction)"
            try killed(arguments(output), after: duration * fraction)
            let resumed = try cli.run(arguments(output) + ["--resume"])
            #expect(resumed.status == 0, "killed at \(fraction): \(resumed.error)")
            #expect(try String(contentsOfFile: output + "/metrics.csv", encoding: .utf8) == expected, "killed at \(fraction) of the run, resumed")
        }
    }

    /// AMGP with fresh regrowth, so the killed run's checkpoints hold pruned widths, removed neurons'
    /// weights and the regrowth generator.
    @Test func aDLRMRunKilledAnywhereResumesToTheSameTestMetrics() throws {
        let directory = try cli.syntheticIDXDirectory()
        func arguments(_ checkpoint: String) -> [String] {
            [
                "dlrm", "--dataset", "synthetic", "--synthetic-rows", "20000", "--nepochs", "3", "--amgp-phases", "0,0.5,0,0.5,0",
                "--amgp-regrowth", "fresh", "--format", "json", "--checkpoint", checkpoint, "--checkpoint-every", "10",
            ]
        }
        /// The test metrics and training FLOPs of a run's JSON (not its time).
        func metrics(_ output: String) throws -> [String] {
            let rows = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
            return rows.filter { $0["metric"] as? String != "train time" }.map { "\($0["metric"]!) \($0["value"]!)" }
        }
        let started = Date()
        let whole = try cli.run(arguments(directory + "/whole.safetensors"))
        let duration = Date().timeIntervalSince(started)
        #expect(whole.status == 0, "\(whole.error)")
        let expected = try metrics(whole.output)
        #expect(expected.count == 6)
        for fraction in [0.15, 0.4, 0.65, 0.9] {
            let checkpoint = directory + "/killed-\(fraction).safetensors"
            try killed(arguments(checkpoint), after: duration * fraction)
            let resumed = try cli.run(arguments(checkpoint) + ["--resume"])
            #expect(resumed.status == 0, "killed at \(fraction): \(resumed.error)")
            #expect(try metrics(resumed.output) == expected, "killed at \(fraction) of the run, resumed")
        }
        let other = try cli.run(arguments(directory + "/whole.safetensors") + ["--resume", "--learning-rate", "0.05"])
        #expect(other.status == 1 && other.error.contains("other options"), "\(other.error)")
    }
}
