import ArgumentParser
import CoppiceFormats
import CoppiceVision
import Foundation

struct WinogradCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "winograd-compare",
        abstract:
            "Compare `coppice spatial-winograd` runs (the method and its baselines): best Winograd sparsity within an accuracy budget of dense, and one accuracy-vs-sparsity chart."
    )

    @Argument(help: "Output directories of `coppice spatial-winograd`.") var runs: [String]
    @Option(help: "Accuracy budget below the dense model, in percentage points.") var budget = 0.5
    @Option(help: "Write the Markdown table here (default: print it).") var markdown: String?
    @Option(help: "Write the SVG chart here.") var svg: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
        guard budget >= 0 else { throw ValidationError("--budget must be non-negative, got \(budget)") }
    }

    func run() throws {
        let loaded = try runs.map { try SpatialWinogradComparison.load($0) }
        let table = SpatialWinogradComparison.markdown(loaded, budget: budget / 100)
        if let markdown { try AtomicFile.write(Data(table.utf8), to: markdown) } else { print(table) }
        if let svg { try AtomicFile.write(Data(SpatialWinogradComparison.svg(loaded).utf8), to: svg) }
    }
}
