import ArgumentParser
import CoppiceBench
import Foundation

extension ReportFormat: ExpressibleByArgument {}

/// Options shared by the bench subcommands.
struct BenchOptions: ParsableArguments {
    @Option(help: "Output format: md, csv or json.")
    var format: ReportFormat = .md

    @Option(help: "Seconds of timing per case (the median run is reported; default 1.0 for engine, 0.3 for sparse).")
    var budget: Double?

    func validate() throws {
        if let budget, budget <= 0 { throw ValidationError("--budget must be positive, got \(budget)") }
    }

    func report(_ results: [BenchmarkResult]) throws { print(try format.render(results)) }
}

func printStage(_ stage: String) { FileHandle.standardError.write(Data("bench: \(stage)\n".utf8)) }

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Coppice's speed (build with -c release and -Xswiftc -target-cpu for real numbers).",
        subcommands: [Engine.self, Sparse.self]
    )

    struct Sparse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "CSR SpMV/SpMM vs dense BLAS at 50–95% sparsity, batch 1/16/128, on three weight shapes.")

        @OptionGroup var options: BenchOptions

        func run() throws {
            try options.report(SparseBenchmark(budget: options.budget ?? 0.3).run(progress: printStage))
        }
    }

    struct Engine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "GEMM, conv2d, MLP step and elementwise throughput next to this machine's ceilings.")

        @OptionGroup var options: BenchOptions

        func run() throws {
            try options.report(EngineBenchmark(budget: options.budget ?? 1.0).run(progress: printStage))
        }
    }
}
