import CoppiceData
import CoppiceRec
import CoppiceRuns
import Foundation
import Testing

/// The library halves of `coppice dlrm` and `coppice online`: options into runs, runs into rows.
@Suite struct RunOptionsTests {
    @Test func servingVariantsParseAsPruningTimesSchedule() throws {
        let variants = try OnlineVariant.parse(schedules: "r2, once,adaptive:0.01", pruning: "learned,uniform")
        #expect(
            variants.map(\.description) == [
                "d2s-r2-learned", "prune-once-learned", "adaptive-0.01-learned",
                "d2s-r2-uniform", "prune-once-uniform", "adaptive-0.01-uniform",
            ])
        #expect(throws: TrainingError.self, "r0 is no period") { try OnlineVariant.parse(schedules: "r0", pruning: "learned") }
        do {
            _ = try OnlineVariant.parse(schedules: "r1", pruning: "magnitude")
            Issue.record("an unknown pruning was accepted")
        } catch {
            #expect(["learned", "uniform", "global"].allSatisfy(error.description.contains), "the error names the choices: \(error)")
        }
    }

    @Test func driftSpellingsRoundTrip() {
        for text in ["none", "abrupt:200000", "gradual:50"] { #expect(SyntheticCTR.Drift(parsing: text)?.description == text) }
        for bad in ["abrupt", "abrupt:0", "sudden:5", "gradual:x"] { #expect(SyntheticCTR.Drift(parsing: bad) == nil, "\(bad)") }
    }

    @Test func dataOptionsNeedTheCriteoFile() {
        #expect(throws: CTRDataError.self) { try CTRDataOptions(dataset: .criteoKaggle).validate() }
        #expect(throws: CTRDataError.self) { try CTRDataOptions(dataset: .synthetic, maxIndexRange: 0).validate() }
        #expect(throws: Never.self) { try CTRDataOptions(dataset: .criteoKaggle, rawDataFile: "train.txt").validate() }
    }

    @Test func seedListsParseRangesAndRefuseRepeats() {
        #expect(DLRMRun.seeds(parsing: "0-3") == [0, 1, 2, 3] && DLRMRun.seeds(parsing: "7, 2,4-5") == [7, 2, 4, 5])
        for bad in ["", "1,x", "3-1", "1-", "-2", "1-2-3", "0-20000", "2,1-3", "1,,2"] { #expect(DLRMRun.seeds(parsing: bad) == nil, "\(bad)") }
    }

    @Test func dlrmRunTrainsAndComparesOnTheSyntheticStream() throws {
        var run = DLRMRun(data: CTRDataOptions(dataset: .synthetic))
        (run.syntheticRows, run.topMLP, run.embeddingDimension) = (1200, [8, 1], 4)
        let rows = try run.run()
        #expect(rows.map(\.metric) == ["NE", "AUC", "log loss", "accuracy", "train time", "training FLOPs", "calibration"])
        #expect(rows.allSatisfy { $0.case == "dlrm synthetic test" && $0.value.isFinite })
        #expect(try run.run().filter { $0.metric != "train time" } == rows.filter { $0.metric != "train time" }, "seeded: the same figures")

        run.phases = [0, 0.5, 0]
        let runs = try run.compare(seeds: [0, 1])
        #expect(runs.map(\.seed) == [0, 1] && runs.allSatisfy { $0.rows.map(\.name) == ["dense", "AMGP", "prune-only", "small dense"] })
        let csv = try DLRMRun.render(runs, format: .csv, perSeed: true)
        #expect(csv.split(separator: "\n").count == 1 + 8, "a header and a line per run and seed")
        #expect(try DLRMRun.render(runs, format: .md, perSeed: true).contains("mean ΔNE"))
        let json = try DLRMRun.render(runs, format: .json, perSeed: true)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        #expect(try decoder.decode(AMGPSeedReport.self, from: Data(json.utf8)).runs.count == 2)
        // Paired: the comparison's dense run of seed 0 is the plain run of seed 0 (same data, same initialization).
        #expect(
            runs[0].rows[0].ne == rows.first { $0.metric == "NE" }?.value && runs[0].rows[0].logLoss == rows.first { $0.metric == "log loss" }?.value)
    }

    @Test func onlineRunNamesItsStream() throws {
        var run = OnlineRun(data: CTRDataOptions(dataset: .synthetic))
        (run.chunkSize, run.chunks, run.drift, run.seed) = (500, 3, .gradual(period: 700), 5)
        let (stream, description) = try run.stream()
        #expect(description == "synthetic drift gradual:700, 500 examples per chunk, seed 5")
        #expect(stream.chunkCount == 3 && stream.chunkSize(0) == 500)
    }
}
