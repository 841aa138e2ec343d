import CoppiceFormats
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `coppice` under `mpirun` on this machine, 2 and 3 ranks over loopback (more ranks than cores, as
/// root where CI runs), as a user would launch it.
@Suite(.serialized) struct DistributedTests {
    /// Open MPI's launcher, which scripts/setup.sh installs (openmpi-bin).
    static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func launch(_ ranks: Int, _ arguments: [String]) throws -> Process {
        let launcher = try #require(Self.mpirun, "mpirun is missing: scripts/setup.sh installs openmpi-bin")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", CommandLineTests.binary] + arguments
        return process
    }

    func mpi(_ ranks: Int, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = try launch(ranks, arguments)
        let out = Pipe(), err = Pipe()
        (process.standardOutput, process.standardError) = (out, err)
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    /// Sum, mean, max, all-gather, uneven all-to-all and broadcasts against their results on every rank.
    @Test(arguments: [2, 3]) func collectivesGiveTheirResults(ranks: Int) throws {
        let result = try mpi(ranks, ["mpi-check", "--sizes", "1024,65536", "--rounds", "2", "--format", "csv"])
        #expect(result.status == 0, "\(result.output) \(result.error)")
        #expect(result.output.contains("mpi,ranks,count,ranks,\(ranks)") && result.output.contains("mpi,collectives checked,failures,count,0"))
        #expect(result.output.contains("all-reduce 65536 floats,busbw"))
    }

    /// A rank that exits before a collective: the other times out with an error naming the call and its
    /// rank, and the run ends (MPI_Abort) instead of hanging.
    @Test func aRankThatStopsEndsTheRunWithAnError() throws {
        let started = Date()
        let result = try mpi(2, ["mpi-check", "--timeout", "5", "--stop-rank", "1", "--sizes", ""])
        #expect(result.status != 0 && result.error.contains("MPI_Iallreduce timed out on rank 0"), "\(result.error)")
        #expect(Date().timeIntervalSince(started) < 60)
    }

    /// Without mpirun: one rank, MPI never loaded, the same checks.
    @Test func withoutMPIRunOneRankRunsAlone() throws {
        let result = try CommandLineTests().run(["mpi-check", "--format", "csv"])
        #expect(result.status == 0 && result.output.contains("mpi,ranks,count,ranks,1"), "\(result.error)")
    }

    func training(_ data: String, _ output: String, epochs: Int) -> [String] {
        [
            "train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", data, "--epochs", "\(epochs)", "--batch-size", "16",
            "--output", output, "--quiet", "--format", "csv",
        ]
    }

    /// Each epoch's losses and accuracies (log.csv without its times).
    func history(_ directory: String) throws -> [[Double]] {
        try String(contentsOfFile: directory + "/log.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").dropLast().compactMap { Double($0) } }
    }

    func close(_ a: [[Double]], _ b: [[Double]]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) } }
    }

    /// Data parallel: 2 and 3 ranks, each a shard of the same global batches (uneven shards of 16),
    /// end with one process's weights and per-epoch numbers, to float tolerance.
    @Test(arguments: [2, 3]) func dataParallelTrainingTakesOneProcesssSteps(ranks: Int) throws {
        let cli = CommandLineTests()
        let data = try cli.syntheticIDXDirectory()
        let single = try cli.run(training(data, data + "/one", epochs: 3))
        let parallel = try mpi(ranks, training(data, data + "/ranks", epochs: 3))
        #expect(single.status == 0 && parallel.status == 0, "\(parallel.error)")
        #expect(parallel.output.components(separatedBy: "test accuracy").count == 2, "rank 0 alone prints: \(parallel.output)")
        let (one, many) = (try SafetensorsFile(path: data + "/one/model.safetensors"), try SafetensorsFile(path: data + "/ranks/model.safetensors"))
        for name in one.names {
            let (a, b) = (try one.tensor(name).scalars, try many.tensor(name).scalars)
            let agree = a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) }
            #expect(agree, "\(name) after \(ranks) ranks")
        }
        #expect(close(try history(data + "/one"), try history(data + "/ranks")))
    }

    func sameTensors(_ a: String, _ b: String) throws -> Bool {
        let (one, other) = (try SafetensorsFile(path: a), try SafetensorsFile(path: b))
        return try one.names == other.names
            && one.names.allSatisfy { name in
                let (x, y) = (try one.tensor(name).scalars, try other.tensor(name).scalars)
                return x.count == y.count && zip(x, y).allSatisfy { ($0 == 0) == ($1 == 0) && abs($0 - $1) <= 1e-5 * max(1, abs($0)) }
            }
    }

    /// Pruning while training on 2 ranks: every rank computes the same masks (the run checks its
    /// replicas agree after every epoch), and they are one process's masks and weights.
    @Test func dataParallelPruningKeepsOneProcesssMasks() throws {
        let cli = CommandLineTests()
        let data = try cli.syntheticIDXDirectory()
        func pruning(_ output: String) -> [String] {
            [
                "prune", "--model", "lenet5", "--dataset", "mnist", "--data-dir", data, "--epochs", "2", "--batch-size", "16", "--sparsity",
                "0.6", "--output", output, "--quiet", "--format", "csv",
            ]
        }
        let single = try cli.run(pruning(data + "/one"))
        let parallel = try mpi(2, pruning(data + "/ranks"))
        #expect(single.status == 0 && parallel.status == 0, "\(parallel.error)")
        #expect(try sameTensors(data + "/one/model.safetensors", data + "/ranks/model.safetensors"))
    }

    /// `train llama` on 2 ranks (each a shard of the same windows, uneven: 3 windows a step) ends
    /// with one process's weights.
    @Test func dataParallelLlamaTrainingTakesOneProcesssSteps() throws {
        let cli = CommandLineTests()
        let directory = try cli.syntheticIDXDirectory()
        let text = String(repeating: "It is a truth universally acknowledged, that a single man in possession of a good fortune. ", count: 20)
        try text.write(toFile: directory + "/text.txt", atomically: true, encoding: .utf8)
        let tokenizer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".data/llama3/tokenizer.model").path
        func training(_ output: String) -> [String] {
            [
                "train", "llama", "--text", directory + "/text.txt", "--held-out", directory + "/text.txt", "--tokenizer", tokenizer, "--dim",
                "16", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--sequence-length", "16", "--batch-size", "3", "--steps", "8",
                "--output", output,
            ]
        }
        let single = try cli.run(training(directory + "/one"))
        let parallel = try mpi(2, training(directory + "/ranks"))
        #expect(single.status == 0 && parallel.status == 0, "\(parallel.error)")
        #expect(try sameTensors(directory + "/one/model.safetensors", directory + "/ranks/model.safetensors"))
    }

    /// The placement and traffic model for more hosts than this machine has.
    @Test func planTablesModelsTheTraffic() throws {
        let result = try CommandLineTests().run(["plan-tables", "--ranks", "2,8", "--format", "csv"])
        #expect(result.status == 0 && result.output.contains("\"8 ranks, batch 16384\",communication at 25.0 GB/s,ms,"), "\(result.error)")
        let bad = try CommandLineTests().run(["plan-tables", "--ranks", "0"])
        #expect(bad.status != 0 && bad.error.contains("--ranks"))
    }

    /// SIGKILL to one rank mid-run: mpirun ends the run with an error instead of hanging, the checkpoint
    /// on disk loads, and `--resume` on another number of ranks ends with the uninterrupted run's numbers.
    @Test func aKilledRankEndsTheRunAndTheCheckpointResumes() throws {
        let cli = CommandLineTests()
        let data = try cli.syntheticIDXDirectory(), output = data + "/killed", epochs = 150
        let whole = try cli.run(training(data, data + "/whole", epochs: epochs))
        #expect(whole.status == 0, "\(whole.error)")
        try killOneRank(of: 2, training(data, output, epochs: epochs), once: output + "/checkpoint.safetensors")
        let resumed = try mpi(3, training(data, output, epochs: epochs) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(close(try history(output), try history(data + "/whole")))
    }

    /// Runs `arguments` on `ranks` ranks, SIGKILLs the last rank once `checkpoint` exists, and checks
    /// that mpirun then ends the run with an error (no hang) and that the checkpoint on disk loads.
    func killOneRank(of ranks: Int, _ arguments: [String], once checkpoint: String) throws {
        let process = try launch(ranks, arguments)
        (process.standardOutput, process.standardError) = (FileHandle.nullDevice, FileHandle.nullDevice)
        try process.run()
        let started = Date()
        while !FileManager.default.fileExists(atPath: checkpoint) && Date().timeIntervalSince(started) < 60 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let children = children(of: process.processIdentifier)
        #expect(children.count == ranks && process.isRunning, "the run ended before a rank could be killed")
        if let victim = children.last { kill(victim, SIGKILL) }
        while process.isRunning && Date().timeIntervalSince(started) < 90 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!process.isRunning, "mpirun still waits after a rank was killed")
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(throws: Never.self) { try SafetensorsFile(path: checkpoint).tensors() }
    }

    /// The processes whose parent is `pid` (the ranks mpirun started on this host).
    func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { child in
            // /proc/PID/stat: "pid (command) state ppid ...": the parent is the second field after the ")".
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
                return false
            }
            return stat[stat.index(after: close)...].split(separator: " ").dropFirst().first.flatMap { Int32($0) } == pid
        }.sorted()
    }
}
