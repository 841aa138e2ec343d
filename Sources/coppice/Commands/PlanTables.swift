import ArgumentParser
import CoppiceRec
import CoppiceRuns

/// The hybrid-parallel DLRM placement and its traffic on more hosts than this machine has: where each
/// table goes and, per step, the bytes each rank moves and what they cost at a link speed.
struct PlanTables: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan-tables",
        abstract: "Place a DLRM's embedding tables on N ranks and model each step's communication (bytes and time at a link speed).",
        discussion: """
            Example: coppice plan-tables --ranks 8,16,32,64 (Criteo Kaggle's tables, the reference's Kaggle MLPs, 2,048 examples a \
            rank, 25 GB/s links). A model, not a measurement: bandwidth only, no latency or overlap with compute.
            """)

    @Option(help: "Table sizes, comma-separated, or criteo-kaggle (the DLRM reference's 26 Kaggle counts).") var tables = "criteo-kaggle"
    @Option(help: "Embedding dimension.") var dimension = 16
    @Option(name: .customLong("arch-mlp-bot"), help: "Bottom MLP widths.") var bottom = "13-512-256-64-16"
    @Option(name: .customLong("arch-mlp-top"), help: "Top MLP widths after the interaction.") var top = "512-256-1"
    @Option(help: "Ranks to plan for, comma-separated.") var ranks = "8,16,32,64"
    @Option(name: .customLong("batch-per-rank"), help: "Examples per rank per step (the global batch grows with the ranks).") var batchPerRank = 2048
    @Option(name: .customLong("link-gbs"), help: "Link bandwidth per direction, GB/s.") var link = 25.0
    @Option(help: "Output format.") var format: ReportFormat = .md

    func numbers(_ text: String, separator: Character) -> [Int]? {
        let values = text.split(separator: separator).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.isEmpty || values.contains(where: { ($0 ?? 0) <= 0 }) ? nil : values.map { $0! }
    }

    func validate() throws {
        guard tables == "criteo-kaggle" || numbers(tables, separator: ",") != nil else {
            throw ValidationError("--tables: criteo-kaggle or positive sizes")
        }
        guard numbers(ranks, separator: ",") != nil, numbers(bottom, separator: "-") != nil, numbers(top, separator: "-") != nil else {
            throw ValidationError("--ranks, --arch-mlp-bot and --arch-mlp-top take positive numbers")
        }
        guard dimension > 0, batchPerRank > 0, link > 0 else {
            throw ValidationError("--dimension, --batch-per-rank and --link-gbs must be positive")
        }
    }

    func run() throws {
        let sizes = tables == "criteo-kaggle" ? TablePlan.criteoKaggle : numbers(tables, separator: ",")!
        let bottomWidths = numbers(bottom, separator: "-")!, count = sizes.count + 1
        let topWidths = [count * (count - 1) / 2 + bottomWidths.last!] + numbers(top, separator: "-")!
        let mlp = [bottomWidths, topWidths].reduce(0) { total, widths in total + zip(widths, widths.dropFirst()).reduce(0) { $0 + ($1.0 + 1) * $1.1 }
        }
        var rows: [BenchmarkResult] = []
        for n in numbers(ranks, separator: ",")! {
            let plan = TablePlan(tableSizes: sizes, dimension: dimension, ranks: n)
            let t = plan.traffic(batch: batchPerRank * n, dimension: dimension, mlpParameters: mlp)
            let name = "\(n) ranks, batch \(batchPerRank * n)"
            rows += [
                .init(suite: "plan", case: name, metric: "largest table share per rank", unit: "MB", value: t.tableBytes / 1e6),
                .init(suite: "plan", case: name, metric: "all-to-all sent, busiest rank", unit: "MB", value: t.allToAllSent / 1e6),
                .init(suite: "plan", case: name, metric: "all-to-all received, busiest rank", unit: "MB", value: t.allToAllReceived / 1e6),
                .init(suite: "plan", case: name, metric: "MLP all-reduce sent per rank", unit: "MB", value: t.allReduceSent / 1e6),
                .init(suite: "plan", case: name, metric: "communication at \(link) GB/s", unit: "ms", value: 1e3 * t.seconds(linkGBs: link)),
            ]
        }
        print(try format.render(rows))
    }
}
