import CoppiceRuns
import Foundation

/// The AMGP comparison over seeds, judged as issue 22 decided: each method's change against dense
/// *within a seed* (same data, same initialization seed) is a paired difference, and its mean over
/// the seeds is reported with a 95% Student-t interval. "NE within 0.1% of dense" holds when the
/// interval's upper end is ≤ +0.1% relative NE, or, where the seed spread makes that impossible (a
/// half-width above 0.1%), when the mean is ≤ +0.1% with the interval stated; and only together
/// with ≥ 25% fewer training FLOPs and ≥ 25% less train time than dense, on average over the seeds.
public struct AMGPSeedReport: Codable, Sendable {
    /// One method against dense: relative changes in percent, paired by seed.
    public struct Method: Codable, Sendable {
        public var name: String
        public var deltaNE: MeanInterval
        public var deltaFLOPs: MeanInterval
        public var deltaTime: MeanInterval
        public var deltaAUC: MeanInterval
    }

    public struct Decision: Codable, Sendable {
        /// "holds", "holds on the mean" (the interval is stated) or "does not hold".
        public var verdict: String
        public var reason: String
    }

    public var seeds: [UInt64]
    public var denseNE: MeanInterval
    public var methods: [Method]
    /// The target for AMGP; nil below 10 seeds (the decision asks for at least ten).
    public var decision: Decision?
    /// Whether the task needs the model's capacity: small dense's ΔNE interval lies above zero.
    public var capacityMatters: Bool
    /// Whether AMGP's mean ΔNE is below small dense's and prune-only's.
    public var amgpBeatsBaselines: Bool
    public var runs: [DLRMRun.SeedRows]

    public static let targetNE = 0.1, targetSaving = -25.0, minimumSeeds = 10

    public init(_ runs: [DLRMRun.SeedRows]) {
        self.runs = runs
        seeds = runs.map(\.seed)
        let change = AMGPComparison.percentChange
        denseNE = MeanInterval(runs.compactMap { $0.rows.first { $0.name == "dense" }?.ne })
        let names = runs.first?.rows.map(\.name).filter { $0 != "dense" } ?? []
        methods = names.map { name in
            var ne: [Double] = [], flops: [Double] = [], time: [Double] = [], auc: [Double] = []
            for run in runs {
                guard let dense = run.rows.first(where: { $0.name == "dense" }), let row = run.rows.first(where: { $0.name == name }) else {
                    continue
                }
                ne.append(change(row.ne, dense.ne))
                flops.append(change(row.trainingFLOPs, dense.trainingFLOPs))
                time.append(change(row.seconds, dense.seconds))
                auc.append(change(row.auc, dense.auc))
            }
            return Method(
                name: name, deltaNE: MeanInterval(ne), deltaFLOPs: MeanInterval(flops), deltaTime: MeanInterval(time), deltaAUC: MeanInterval(auc))
        }
        let amgp = methods.first { $0.name == "AMGP" }, small = methods.first { $0.name == "small dense" }
        let pruneOnly = methods.first { $0.name == "prune-only" }
        capacityMatters = small.map { $0.deltaNE.side == 1 } ?? false
        amgpBeatsBaselines = amgp.map { a in [small, pruneOnly].allSatisfy { b in b.map { a.deltaNE.mean < $0.deltaNE.mean } ?? true } } ?? false
        decision = amgp.flatMap { runs.count >= Self.minimumSeeds ? Self.decide($0) : nil }
    }

    static func decide(_ amgp: Method) -> Decision {
        let ne = amgp.deltaNE, halfWidth = (ne.high - ne.low) / 2
        let savings = String(format: "FLOPs %+.1f%%, time %+.1f%%", amgp.deltaFLOPs.mean, amgp.deltaTime.mean)
        let interval = String(format: "ΔNE %+.3f%% [%+.3f%%, %+.3f%%]", ne.mean, ne.low, ne.high)
        guard amgp.deltaFLOPs.mean <= targetSaving, amgp.deltaTime.mean <= targetSaving else {
            return Decision(verdict: "does not hold", reason: "\(savings): the target needs both at most \(Int(targetSaving))%; \(interval)")
        }
        if ne.high <= targetNE { return Decision(verdict: "holds", reason: "\(interval): the interval's upper end is ≤ +0.1%; \(savings)") }
        if ne.mean <= targetNE && halfWidth > targetNE {
            return Decision(
                verdict: "holds on the mean",
                reason: String(
                    format: "%@: the mean is ≤ +0.1%% but the interval's half-width (%.3f%%) is wider than 0.1%% at %d seeds; %@", interval,
                    halfWidth, ne.count, savings))
        }
        return Decision(
            verdict: "does not hold",
            reason: "\(interval): \(ne.mean > targetNE ? "the mean" : "the interval's upper end") is above +0.1%; \(savings)")
    }

    public func markdown() -> String {
        func cell(_ m: MeanInterval, _ digits: Int) -> String {
            m.low.isNaN
                ? String(format: "%+.\(digits)f%%", m.mean) : String(format: "%+.\(digits)f%% [%+.\(digits)f, %+.\(digits)f]", m.mean, m.low, m.high)
        }
        var out = "Paired by seed (same data and initialization seed within a seed); mean over \(seeds.count) seeds with the 95% t interval.\n\n"
        out +=
            "| run vs dense | mean ΔNE [95% CI] | sd ΔNE | mean ΔAUC [95% CI] | mean ΔFLOPs | mean Δtime [95% CI] |\n|---|---:|---:|---:|---:|---:|\n"
        for m in methods {
            out += "| \(m.name) | \(cell(m.deltaNE, 3)) | \(String(format: "%.3f%%", m.deltaNE.standardDeviation)) | \(cell(m.deltaAUC, 3)) | "
            out += String(format: "%+.1f%%", m.deltaFLOPs.mean) + " | \(cell(m.deltaTime, 1)) |\n"
        }
        out += String(
            format: "\nDense NE over the seeds: mean %.4f, sd %.4f (%.2f%% of the mean).\n", denseNE.mean, denseNE.standardDeviation,
            100 * denseNE.standardDeviation / denseNE.mean)
        out += "\nSmall dense at AMGP's FLOPs worse than dense (interval above 0): \(capacityMatters ? "yes" : "no").\n"
        out += "AMGP's mean ΔNE below small dense's and prune-only's: \(amgpBeatsBaselines ? "yes" : "no").\n"
        if let decision {
            out += "AMGP \"NE within 0.1% of dense, ≥ 25% fewer FLOPs and less time\": **\(decision.verdict)** (\(decision.reason)).\n"
        } else {
            out += "AMGP target not judged: \(seeds.count) seeds, the decision needs at least \(Self.minimumSeeds).\n"
        }
        return out
    }

    /// One line per method: the summary as CSV (percent changes against dense, paired by seed).
    public func csv() -> String {
        var out =
            "run,seeds,mean_delta_ne,ci_low_delta_ne,ci_high_delta_ne,sd_delta_ne,mean_delta_auc,mean_delta_flops,mean_delta_time,ci_low_delta_time,ci_high_delta_time\n"
        for m in methods {
            let values = [
                m.deltaNE.mean, m.deltaNE.low, m.deltaNE.high, m.deltaNE.standardDeviation, m.deltaAUC.mean, m.deltaFLOPs.mean, m.deltaTime.mean,
                m.deltaTime.low, m.deltaTime.high,
            ]
            out += "\(m.name),\(m.deltaNE.count)," + values.map { "\($0)" }.joined(separator: ",") + "\n"
        }
        return out
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
