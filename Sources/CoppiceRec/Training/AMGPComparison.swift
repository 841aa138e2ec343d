import CoppiceKernels
import CoppiceRuns
import Foundation

/// Alternate growth and pruning next to its baselines in one harness (papers.md §2.3): the dense
/// model, AMGP with the given schedule, prune-only (pruned where AMGP first prunes, to the schedule's
/// largest fraction, never regrown), and a small dense model whose hidden widths are scaled so that
/// its forward pass costs what AMGP's does on average.
public enum AMGPComparison {
    public struct Row: Codable, Sendable {
        public var name: String
        public var bottomMLP: [Int]
        public var topMLP: [Int]
        public var phases: [Double]
        public var ne: Double?
        public var auc: Double?
        public var logLoss: Double
        public var trainingFLOPs: Double
        /// The median of `runSeconds`.
        public var seconds: Double
        /// Training time of every repeat, in the order run.
        public var runSeconds: [Double]

        public init(
            name: String, bottomMLP: [Int], topMLP: [Int], phases: [Double], ne: Double?, auc: Double?, logLoss: Double, trainingFLOPs: Double,
            seconds: Double, runSeconds: [Double]
        ) {
            (self.name, self.bottomMLP, self.topMLP, self.phases, self.ne, self.auc) = (name, bottomMLP, topMLP, phases, ne, auc)
            (self.logLoss, self.trainingFLOPs, self.seconds, self.runSeconds) = (logLoss, trainingFLOPs, seconds, runSeconds)
        }
    }

    /// `train` runs one configuration on the data (the caller decides which split). With `repeats`
    /// above 1 the four runs are repeated round after round (so that a slow spell of a shared machine
    /// falls on all of them alike) and the time is the median; training is deterministic, so the
    /// metrics of a repeat must equal the first run's, which is checked.
    public static func run(
        _ base: DLRMTraining, repeats: Int = 1,
        train: (DLRMTraining) throws -> DLRMTraining.Result
    ) throws -> [Row] {
        guard repeats >= 1 else { throw TrainingError.invalidConfiguration("repeats must be at least 1, got \(repeats)") }
        guard base.phases.contains(where: { $0 > 0 }), base.phases.last == 0 else {
            throw TrainingError.invalidConfiguration("the comparison needs an AMGP schedule with a sparse phase that ends dense, got \(base.phases)")
        }
        func row(_ name: String, _ training: DLRMTraining) throws -> Row {
            let result = try train(training)
            return Row(
                name: name, bottomMLP: training.configuration.bottomMLP, topMLP: training.configuration.topMLP, phases: training.phases,
                ne: result.test.normalizedEntropy, auc: result.test.auc, logLoss: result.test.logLoss,
                trainingFLOPs: 2 * result.trainingMultiplyAdds, seconds: result.seconds, runSeconds: [result.seconds])
        }
        var dense = base
        dense.phases = []
        dense.phaseLengths = []
        // Prune-only prunes when AMGP first does, to its largest fraction, and never regrows.
        var pruneOnly = base
        let first = base.phases.firstIndex { $0 > 0 }!
        pruneOnly.phases = base.phases.indices.map { $0 < first ? 0 : base.phases.max()! }
        let rows = [try row("dense", dense), try row("AMGP", base), try row("prune-only", pruneOnly)]
        // Same average cost: the forward multiply-adds per example AMGP spent, matched by bisection.
        let target = rows[1].trainingFLOPs / rows[0].trainingFLOPs * Double(base.configuration.forwardMultiplyAdds)
        var low = 0.0, high = 1.0
        for _ in 0..<40 {
            let middle = (low + high) / 2
            if Double(base.configuration.scalingHiddenWidths(by: middle).forwardMultiplyAdds) < target { low = middle } else { high = middle }
        }
        var small = dense
        small.configuration = base.configuration.scalingHiddenWidths(by: (low + high) / 2)
        var all = rows + [try row("small dense", small)]
        let trainings = [dense, base, pruneOnly, small]
        for _ in 1..<repeats {
            for (index, training) in trainings.enumerated() {
                let again = try row(all[index].name, training)
                guard again.ne == all[index].ne, again.logLoss == all[index].logLoss else {
                    throw TrainingError.invalidConfiguration(
                        "a repeat of \(again.name) gave different metrics (log loss \(again.logLoss) vs \(all[index].logLoss)): training is not deterministic"
                    )
                }
                all[index].runSeconds += again.runSeconds
            }
        }
        for index in all.indices { all[index].seconds = Stopwatch.median(of: all[index].runSeconds) }
        return all
    }

    public static func markdown(_ rows: [Row]) -> String {
        let dense = rows.first { $0.name == "dense" }
        func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "–" }
        func relative(_ v: Double, _ base: Double?) -> String { base.map { String(format: " (%+.1f%%)", 100 * (v / $0 - 1)) } ?? "" }
        let repeats = rows.map(\.runSeconds.count).max() ?? 1
        let time = repeats > 1 ? "train time (median of \(repeats))" : "train time"
        var out = "| run | MLPs (bottom / top) | phases | NE | ΔNE vs dense | AUC | log loss | training FLOPs | \(time) |\n"
        out += "|---|---|---|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            var delta = "–"
            if let ne = r.ne, let base = dense?.ne { delta = String(format: "%+.2f%%", 100 * (ne / base - 1)) }
            out += "| \(r.name) | \(r.bottomMLP.map(String.init).joined(separator: "-")) / \(r.topMLP.map(String.init).joined(separator: "-")) | "
            out +=
                "\(r.phases.isEmpty ? "dense" : r.phases.map { String(format: "%g", $0) }.joined(separator: ",")) | \(f(r.ne)) | \(delta) | \(f(r.auc)) | \(f(r.logLoss)) | "
            out += String(format: "%.3g", r.trainingFLOPs) + relative(r.trainingFLOPs, dense?.trainingFLOPs) + " | "
            out += String(format: "%.2f s", r.seconds) + relative(r.seconds, dense?.seconds) + " |\n"
        }
        return out
    }

    /// One line per run and seed (`--format csv`): MLP widths dash-separated, phases semicolon-separated.
    public static func csv(_ runs: [(seed: UInt64, rows: [Row])]) -> String {
        var out = "seed,run,bottom_mlp,top_mlp,phases,ne,auc,log_loss,training_flops,train_seconds\n"
        for run in runs {
            for r in run.rows {
                let fields = [
                    "\(run.seed)", r.name, r.bottomMLP.map(String.init).joined(separator: "-"), r.topMLP.map(String.init).joined(separator: "-"),
                    r.phases.map { String(format: "%g", $0) }.joined(separator: ";"), r.ne.map { "\($0)" } ?? "", r.auc.map { "\($0)" } ?? "",
                    "\(r.logLoss)", "\(r.trainingFLOPs)", "\(r.seconds)",
                ]
                out += fields.joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// The change of `value` against `base` in percent; nan when either is missing.
    public static func percentChange(_ value: Double?, _ base: Double?) -> Double {
        guard let value, let base else { return .nan }
        return 100 * (value / base - 1)
    }

    /// Each run's NE and time against dense's, seed by seed (`runs`: one comparison per seed); the
    /// means with their intervals are `AMGPSeedReport`'s.
    public static func seedSummary(_ runs: [(seed: UInt64, rows: [Row])]) -> String {
        guard let names = runs.first?.rows.map(\.name) else { return "" }
        var out = "| run | " + runs.map { "seed \($0.seed): ΔNE / Δtime" }.joined(separator: " | ")
        out += " |\n|---|" + String(repeating: "---:|", count: runs.count) + "\n"
        for name in names where name != "dense" {
            out += "| \(name) | "
            out +=
                runs.map { run in
                    let dense = run.rows.first { $0.name == "dense" }, row = run.rows.first { $0.name == name }
                    return String(format: "%+.2f%% / %+.1f%%", percentChange(row?.ne, dense?.ne), percentChange(row?.seconds, dense?.seconds))
                }.joined(separator: " | ") + " |\n"
        }
        return out
    }

    /// Three bar panels: NE, training FLOPs and train time of each run, dense's value marked.
    public static func svg(_ rows: [Row], title: String) -> String {
        let colors = ["#7f7f7f", "#1f77b4", "#d62728", "#2ca02c"]
        let panels: [(String, (Row) -> Double)] = [
            ("test NE (axis from 0.97 × the lowest)", { $0.ne ?? .nan }), ("training FLOPs", \.trainingFLOPs), ("train time (s)", \.seconds),
        ]
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"300\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"900\" height=\"300\" fill=\"white\"/>\n<text x=\"10\" y=\"292\" fill=\"#555\">\(title)</text>\n"
        for (p, panel) in panels.enumerated() {
            let x0 = 20.0 + Double(p) * 300, values = rows.map(panel.1).filter(\.isFinite)
            let high = (values.max() ?? 1) * 1.05, low = p == 0 ? (values.min() ?? 0) * 0.97 : 0
            out += "<text x=\"\(x0)\" y=\"20\" font-weight=\"bold\">\(panel.0)</text>\n"
            for (i, r) in rows.enumerated() {
                let v = panel.1(r)
                guard v.isFinite else { continue }
                let h = 200 * (v - low) / max(high - low, 1e-12), x = x0 + Double(i) * 72
                out += String(
                    format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"50\" height=\"%.1f\" fill=\"%@\"/>", x, 240 - h, h, colors[i % colors.count])
                out += String(
                    format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>", x + 25, 234 - h,
                    String(format: p == 0 ? "%.4f" : "%.3g", v))
                out += String(format: "<text x=\"%.1f\" y=\"256\" text-anchor=\"middle\" font-size=\"11\">%@</text>\n", x + 25, r.name)
            }
        }
        return out + "</svg>\n"
    }
}
