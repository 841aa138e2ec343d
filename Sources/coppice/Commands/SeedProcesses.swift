import CoppiceKernels
import CoppiceRec
import Foundation

/// `coppice dlrm --compare --jobs N`: the seeds split among N child processes of this same command
/// (each given its seeds and `--format json`, and its share of the threads), their reports merged in
/// seed order. Each child times its own four runs, so the paired time changes stay within a process.
struct SeedProcesses {
    let seeds: [UInt64]
    let jobs: Int

    /// This invocation's arguments without the options the children get their own values of.
    static func childArguments(_ arguments: [String], seeds: [UInt64]) -> [String] {
        let replaced: Set = ["--seeds", "--jobs", "--format", "--plot", "--report-dir"]
        var kept: [String] = [], skipNext = false
        for argument in arguments {
            if skipNext {
                skipNext = false
                continue
            }
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if replaced.contains(name) {
                skipNext = !argument.contains("=")
                continue
            }
            kept.append(argument)
        }
        return kept + ["--seeds", seeds.map(String.init).joined(separator: ","), "--format", "json"]
    }

    func run() throws -> [DLRMRun.SeedRows] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let threads = max(1, ThreadPool.shared.threadCount / jobs)
        let groups = (0..<min(jobs, seeds.count)).map { j in stride(from: j, to: seeds.count, by: jobs).map { seeds[$0] } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coppice-seeds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var children: [(process: Process, output: URL)] = []
        for (index, group) in groups.enumerated() {
            let output = directory.appendingPathComponent("\(index).json")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            let process = Process()
            process.executableURL = executable
            process.arguments = Self.childArguments(Array(CommandLine.arguments.dropFirst()), seeds: group)
            process.environment = ProcessInfo.processInfo.environment.merging(["COPPICE_NUM_THREADS": "\(threads)"]) { $1 }
            process.standardOutput = try FileHandle(forWritingTo: output)
            try process.run()
            children.append((process, output))
        }
        var runs: [DLRMRun.SeedRows] = []
        var failures: [String] = []
        for (index, child) in children.enumerated() {
            child.process.waitUntilExit()
            guard child.process.terminationStatus == 0 else {
                failures.append(
                    "seeds \(groups[index].map(String.init).joined(separator: ",")) exited with status \(child.process.terminationStatus)")
                continue
            }
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            runs += try decoder.decode(AMGPSeedReport.self, from: Data(contentsOf: child.output)).runs
        }
        guard failures.isEmpty else { throw SeedProcessError(message: "the seed processes failed: " + failures.joined(separator: "; ")) }
        let order = Dictionary(uniqueKeysWithValues: seeds.enumerated().map { ($1, $0) })
        return runs.sorted { order[$0.seed]! < order[$1.seed]! }
    }
}

struct SeedProcessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
