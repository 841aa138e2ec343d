import ArgumentParser
import CoppiceBench

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Coppice's speed (release builds; each run names the CPU, ISA level and GEMM backend it measured).",
        subcommands: [Engine.self, Sparse.self, Conv.self, DLRM.self, LLM.self, LLMModel.self]
    )

    struct Sparse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "CSR SpMV/SpMM vs dense BLAS at 50–95% sparsity, batch 1/16/128, on three weight shapes.")

        @OptionGroup var options: BenchOptions

        func run() throws {
            options.announce()
            try options.report(SparseBenchmark(budget: options.budget ?? 0.3).run(progress: printStage))
        }
    }

    struct Conv: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "3×3 convolution forward: im2col, direct, dense Winograd F(2,3)/F(4,3), sparse Winograd F(4,3), on VGG-nagadomi's and vgg-fmnist's layers."
        )

        @OptionGroup var options: BenchOptions
        @Option(help: "Winograd-domain sparsities of the sparse Winograd cases, comma-separated.") var sparsities = "0.7,0.8,0.9"
        @Option(help: "Batch sizes, comma-separated.") var batches = "1,32"

        func validate() throws {
            guard let s = numberList(sparsities), !s.isEmpty, s.allSatisfy({ (0..<1).contains($0) }) else {
                throw ValidationError("--sparsities must be numbers in [0, 1), got '\(sparsities)'")
            }
            guard let b = numberList(batches), !b.isEmpty, b.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
                throw ValidationError("--batches must be positive integers, got '\(batches)'")
            }
        }

        func run() throws {
            options.announce()
            var benchmark = ConvBenchmark(budget: options.budget ?? 0.3)
            benchmark.sparsities = numberList(sparsities) ?? benchmark.sparsities
            benchmark.batches = (numberList(batches) ?? []).map { Int($0) }
            try options.report(benchmark.run(progress: printStage))
        }
    }

    struct DLRM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dlrm",
            abstract: "DLRM training step and inference (8 tables × 100,000 × 64, bottom 13-512-256-64, top 512-256-1) at batch 128 and 2048.")

        @OptionGroup var options: BenchOptions

        func run() throws {
            options.announce()
            try options.report(DLRMBenchmark(budget: options.budget ?? 1.0).run(progress: printStage))
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
