import CoppiceFormats
import CoppiceRec
import CoppiceRuns
import Foundation
import Testing

@Suite struct AMGPSeedReportTests {
    /// Reference values: scipy.stats.t.ppf(0.975, df) and the interval of 1…10 by hand.
    @Test func theIntervalIsStudentsT() {
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 1) - 12.706_204_736) < 1e-6)
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 4) - 2.776_445_105) < 1e-6)
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 9) - 2.262_157_163) < 1e-6)
        #expect(abs(StudentT.quantile(0.05, degreesOfFreedom: 30) + 1.697_260_887) < 1e-6)
        #expect(StudentT.cdf(0, degreesOfFreedom: 7) == 0.5)
        let m = MeanInterval((1...10).map(Double.init))
        #expect(m.mean == 5.5 && abs(m.standardDeviation - 3.027_650_354) < 1e-8)
        #expect(abs(m.low - 3.334_149_711) < 1e-6 && abs(m.high - 7.665_850_289) < 1e-6, "\(m)")
        #expect(m.side == 1 && MeanInterval([-1, 1]).side == 0 && MeanInterval([-3, -2, -4]).side == -1)
        let one = MeanInterval([2])
        #expect(one.mean == 2 && one.low.isNaN && one.side == 0)
    }

    /// Ten seeds of made-up rows: dense NE 0.5; the methods' relative changes as given by seed.
    static func runs(amgp: [Double], small: [Double], time: Double = 0.7, seeds: Int = 10) -> [DLRMRun.SeedRows] {
        func row(_ name: String, ne: Double, flops: Double, seconds: Double) -> AMGPComparison.Row {
            AMGPComparison.Row(
                name: name, bottomMLP: [3, 8], topMLP: [8, 1], phases: [], ne: ne, auc: 0.8, logLoss: 0.4, trainingFLOPs: flops, seconds: seconds,
                runSeconds: [seconds])
        }
        return (0..<seeds).map { s in
            DLRMRun.SeedRows(
                seed: UInt64(s),
                rows: [
                    row("dense", ne: 0.5, flops: 100, seconds: 10), row("AMGP", ne: 0.5 * (1 + amgp[s] / 100), flops: 62, seconds: 10 * time),
                    row("prune-only", ne: 0.5 * 1.01, flops: 43, seconds: 6),
                    row("small dense", ne: 0.5 * (1 + small[s] / 100), flops: 62, seconds: 7),
                ])
        }
    }

    @Test func theDecisionFollowsTheInterval() throws {
        let spread = [-0.3, 0.3, -0.2, 0.2, -0.1, 0.1, 0, 0.05, -0.05, 0]
        let small = spread.map { $0 + 0.8 }
        var report = AMGPSeedReport(Self.runs(amgp: spread.map { $0 * 0.1 }, small: small))
        #expect(report.decision?.verdict == "holds", "\(report.decision!)")
        #expect(report.capacityMatters && report.amgpBeatsBaselines)
        #expect(abs(report.methods[0].deltaNE.mean) < 1e-9 && abs(report.methods[0].deltaFLOPs.mean + 38) < 1e-9)
        report = AMGPSeedReport(Self.runs(amgp: spread.map { $0 * 3 }, small: small))
        #expect(report.decision?.verdict == "holds on the mean", "a half-width above 0.1%: \(report.decision!)")
        report = AMGPSeedReport(Self.runs(amgp: spread.map { $0 + 0.3 }, small: spread))
        #expect(report.decision?.verdict == "does not hold" && !report.capacityMatters && !report.amgpBeatsBaselines)
        report = AMGPSeedReport(Self.runs(amgp: spread.map { $0 * 0.1 }, small: small, time: 0.9))
        #expect(report.decision?.verdict == "does not hold" && report.decision!.reason.contains("time -10.0%"), "time saved below 25%")
        report = AMGPSeedReport(Self.runs(amgp: spread, small: small, seeds: 9))
        #expect(report.decision == nil && report.markdown().contains("needs at least 10"))
    }

    @Test func theReportRendersAndRoundTrips() throws {
        let runs = Self.runs(amgp: Array(repeating: 0.05, count: 10), small: (0..<10).map { 0.5 + Double($0) / 10 })
        let report = AMGPSeedReport(runs)
        #expect(report.markdown().contains("| AMGP | +0.050% [+0.050, +0.050] |"), "\(report.markdown())")
        let csv = report.csv().split(separator: "\n")
        let fields = csv[1].split(separator: ",")
        #expect(csv.count == 4 && fields.count == 11 && fields[0] == "AMGP" && fields[1] == "10" && abs(Double(fields[2])! - 0.05) < 1e-9)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let back = try decoder.decode(AMGPSeedReport.self, from: Data(try report.json().utf8))
        #expect(back.runs.map(\.seed) == runs.map(\.seed) && back.methods.map(\.deltaNE) == report.methods.map(\.deltaNE))
        let svg = report.svg(title: "t")
        #expect(svg.hasPrefix("<svg") && svg.contains("small dense") && svg.hasSuffix("</svg>\n"))
        let markdown = try DLRMRun.render(runs, format: .md, perSeed: true)
        #expect(markdown.contains("seed 9: ΔNE / Δtime") && markdown.contains("mean ΔNE [95% CI]"))
    }

    /// Within a seed every method starts from the same model and sees the same batches: a dense run
    /// and an AMGP run checkpointed at the same step before AMGP first prunes hold the same weights.
    @Test func pairedRunsShareInitializationAndData() throws {
        let teacher = SyntheticTeacher(bottomHidden: [32], topHidden: [32])
        let data = try SyntheticCTR(tableSizes: [50, 40], denseCount: 3, teacher: teacher, seed: 3).dataset(rows: 1500)
        let configuration = DLRMConfiguration(bottomMLP: [3, 16, 8], topMLP: [16, 1], embeddingDimension: 8, tableSizes: [50, 40])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coppice-paired-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var weights: [[String: [Float]]] = []
        for (name, phases) in [("dense", [Double]()), ("amgp", [0, 0.5, 0])] {
            var training = DLRMTraining(configuration: configuration)
            (training.batchSize, training.seed, training.phases) = (50, 7, phases)
            training.phaseLengths = phases.isEmpty ? [] : [0.6, 0.2, 0.2]
            // 27 steps: one checkpoint, at step 14, inside AMGP's dense warm-up (steps 0-16).
            let path = directory.appendingPathComponent("\(name).safetensors").path
            training.checkpointing = DLRMCheckpointing(path: path, everySteps: 14, resume: false, data: "paired")
            _ = try training.run(data)
            let tensors = try SafetensorsFile(path: path).tensors()
            weights.append(tensors.filter { $0.key.hasPrefix("model.") }.mapValues(\.scalars))
        }
        #expect(weights[0].count > 4 && weights[0] == weights[1], "the same weights at step 14")
    }
}
