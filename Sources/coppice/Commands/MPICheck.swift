import ArgumentParser
import CoppiceDistributed
import CoppiceRuns
import Foundation

/// Checks an MPI launch before a long run: every collective Coppice uses against the result it must
/// give on every rank, then all-reduce time and bandwidth by message size (nccl-tests' algbw and busbw).
struct MPICheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-check",
        abstract: "Check the collectives and time all-reduce across the ranks of an MPI launch.",
        discussion: """
            Example: mpirun -np 2 .build/release/coppice mpi-check (as root: mpirun --allow-run-as-root; more ranks than \
            cores: --oversubscribe). Without mpirun it runs as one rank. Exits 1 when a check fails.
            """)

    @Option(help: "Seconds a collective may wait for the other ranks before this rank stops with an error.") var timeout = 60.0
    @Option(help: "All-reduce sizes timed, in floats, comma-separated (empty: none).") var sizes = "1024,65536,1048576,16777216"
    @Option(help: "Timed rounds per size (the median is reported).") var rounds = 5
    @Option(name: .customLong("stop-rank"), help: "For tests: this rank exits with status 3 before the checks, as a crashed process would.")
    var stopRank: Int?
    @Option(help: "Output format.") var format: ReportFormat = .md

    func validate() throws {
        guard timeout > 0, rounds > 0 else { throw ValidationError("--timeout and --rounds must be positive, got \(timeout) and \(rounds)") }
        guard sizes.isEmpty || sizes.split(separator: ",").allSatisfy({ Int($0).map { $0 > 0 } == true }) else {
            throw ValidationError("--sizes must be positive float counts separated by commas, got '\(sizes)'")
        }
    }

    func run() throws {
        let world = try Communicator.world(timeout: timeout)
        if stopRank == world.rank { Foundation.exit(3) }
        let failures = try CollectiveCheck.run(world)
        var results = [
            BenchmarkResult(suite: "mpi", case: "ranks", metric: "count", unit: "ranks", value: Double(world.size)),
            BenchmarkResult(suite: "mpi", case: "collectives checked", metric: "failures", unit: "count", value: Double(failures.count)),
        ]
        // One rank has nothing to time.
        for count in sizes.split(separator: ",").compactMap({ Int($0) }) where world.size > 1 {
            let seconds = try CollectiveCheck.allReduceSeconds(world, count: count, rounds: rounds)
            let bytes = Double(count * MemoryLayout<Float>.stride), algorithm = bytes / seconds / 1e9
            let name = "all-reduce \(count) floats"
            results += [
                BenchmarkResult(suite: "mpi", case: name, metric: "time", unit: "ms", value: seconds * 1e3),
                BenchmarkResult(suite: "mpi", case: name, metric: "algbw", unit: "GB/s", value: algorithm),
                BenchmarkResult(
                    suite: "mpi", case: name, metric: "busbw", unit: "GB/s", value: algorithm * 2 * Double(world.size - 1) / Double(world.size)),
            ]
        }
        if world.isRoot { print(try format.render(results)) }
        for failure in failures where world.isRoot || failure.hasPrefix("rank \(world.rank):") { note("mpi-check: \(failure)") }
        if !failures.isEmpty { throw ExitCode.failure }
    }
}
