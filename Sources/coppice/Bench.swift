import ArgumentParser
import CoppiceBench
import Foundation

extension ReportFormat: ExpressibleByArgument {}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Coppice's speed (build with -c release and -Xswiftc -target-cpu for real numbers).",
        subcommands: [Engine.self, Sparse.self]
    )

    struct Sparse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "CSR SpMV/SpMM vs dense BLAS at 50–95% sparsity, batch 1/16/128, on three weight shapes.")

        @Option(help: "Output format: md, csv or json.")
        var format: ReportFormat = .md

        @Option(help: "Seconds of timing per case (the median run is reported).")
        var budget: Double = 0.3

        func validate() throws {
            guard budget > 0 else { throw ValidationError("--budget must be positive, got \(budget)") }
        }

        func run() throws {
            let results = SparseBenchmark(budget: budget).run { stage in
                FileHandle.standardError.write(Data("bench: \(stage)\n".utf8))
            }
            print(try format.render(results))
        }
    }

    struct Engine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "GEMM, conv2d, MLP step and elementwise throughput next to this machine's ceilings.")

        @Option(help: "Output format: md, csv or json.")
        var format: ReportFormat = .md

        @Option(help: "Seconds of timing per case (the median run is reported).")
        var budget: Double = 1.0

        func validate() throws {
            guard budget > 0 else { throw ValidationError("--budget must be positive, got \(budget)") }
        }

        func run() throws {
            let results = EngineBenchmark(budget: budget).run { stage in
                FileHandle.standardError.write(Data("bench: \(stage)\n".utf8))
            }
            print(try format.render(results))
        }
    }
}
