import ArgumentParser
import CoppiceBench
import CoppiceRuns

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "This machine as Coppice sees it, for bug reports: CPU, ISA level, GEMM backend and kernels, peak FP32 FLOP/s and memory bandwidth.",
        discussion: "COPPICE_ISA (generic, avx2, avx512, avx512-vnni) caps the kernels' level; COPPICE_GEMM (openblas, blis) picks the GEMM backend.")

    @Option(help: "Output format.") var format: ReportFormat = .md

    func run() throws { print(try format.render(SystemReport().rows())) }
}
