import ArgumentParser
import CoppiceBench
import CoppiceRuns

/// Options shared by the bench subcommands.
struct BenchOptions: ParsableArguments {
    @Option(help: "Output format.")
    var format: ReportFormat = .md

    @Option(help: "Seconds of timing per case (the median run is reported; default 1.0 for engine, 0.3 for sparse).")
    var budget: Double?

    func validate() throws {
        if let budget, budget <= 0 { throw ValidationError("--budget must be positive, got \(budget)") }
    }

    func report(_ results: [BenchmarkResult]) throws { print(try format.render(results)) }

    /// The machine the numbers come from, on standard error before they are measured.
    func announce() { note("bench: " + SystemReport().summary()) }
}

func printStage(_ stage: String) { note("bench: \(stage)") }
