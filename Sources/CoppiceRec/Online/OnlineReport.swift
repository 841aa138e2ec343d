import CoppiceData
import CoppiceFormats
import CoppiceKernels
import CoppiceRuns
import CoppiceTensor
import Foundation

/// The outputs of an online run: per-chunk metrics as CSV and JSONL (appended chunk by chunk, so
/// memory does not grow with the stream), a plot of NE per chunk and of
/// each serving model's NE gap to the dense model, a summary table, and the measured inference
/// speed of the sparse serving models against the dense one.
public enum OnlineReport {
    static let csvHeader = "chunk,model,examples,ne,auc,log_loss,calibration,lifetime_ne,lifetime_auc,sparsity,regenerated,layer_sparsity"

    /// Appends `records` to `metrics.csv` (with its header when new) and `metrics.jsonl` in
    /// `directory`; returns the files' sizes after the append.
    @discardableResult
    public static func appendLogs(_ records: [OnlineRecord], to directory: String) throws -> (csv: Int, jsonl: Int) {
        func number(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "" }
        let csv = records.map { r in
            [
                String(r.chunk), r.model, String(r.examples), number(r.ne), number(r.auc), number(r.logLoss), number(r.calibration),
                number(r.lifetimeNE), number(r.lifetimeAUC), number(r.sparsity), r.regenerated ? "1" : "0",
                r.layerSparsity.map { $0.map { String(format: "%.4f", $0) }.joined(separator: " ") } ?? "",
            ].joined(separator: ",") + "\n"
        }.joined()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let jsonl = try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
        func append(_ text: String, _ name: String, header: String?) throws -> Int {
            let path = directory + "/" + name
            if !FileManager.default.fileExists(atPath: path) && !FileManager.default.createFile(atPath: path, contents: Data((header ?? "").utf8)) {
                throw TrainingError.checkpoint("cannot create \(path)")
            }
            guard let handle = FileHandle(forWritingAtPath: path) else { throw TrainingError.checkpoint("cannot write \(path)") }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            return Int(handle.offsetInFile)
        }
        return (try append(csv, "metrics.csv", header: csvHeader + "\n"), try append(jsonl, "metrics.jsonl", header: nil))
    }

    /// Cuts the logs back to the sizes a checkpoint recorded (a resumed run re-appends the rest).
    static func truncateLogs(in directory: String, to sizes: (csv: Int, jsonl: Int)) throws {
        for (name, size) in [("metrics.csv", sizes.csv), ("metrics.jsonl", sizes.jsonl)] {
            let path = directory + "/" + name
            // Nothing logged yet at the checkpoint: the file goes, so the next append writes its header.
            if size == 0 {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            guard let handle = FileHandle(forWritingAtPath: path) else { throw TrainingError.checkpoint("cannot open \(path) to resume") }
            defer { try? handle.close() }
            try handle.truncate(atOffset: UInt64(size))
        }
    }

    /// Every record of a run, read back from its `metrics.jsonl`.
    public static func readLogs(in directory: String) throws -> [OnlineRecord] {
        guard let data = FileManager.default.contents(atPath: directory + "/metrics.jsonl") else { return [] }
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(OnlineRecord.self, from: Data($0)) }
    }

    /// The run's table and its inference measurement, for `--format json`.
    public struct Summary: Codable, Sendable {
        public var rows: [Row]
        public var inference: [Speed]
        public init(rows: [Row], inference: [Speed]) {
            self.rows = rows
            self.inference = inference
        }
    }

    /// One row per model over the streamed chunks.
    public struct Row: Codable, Sendable {
        public var model: String
        public var meanNE: Double
        /// Mean over chunks of (this model's NE − the dense model's NE) on the same chunk.
        public var meanGap: Double
        public var worstGap: Double
        public var lifetimeNE: Double?
        public var lifetimeAUC: Double?
        public var regenerations: Int
        public var sparsity: Double
    }

    public static func rows(_ records: [OnlineRecord]) -> [Row] {
        let denseNE = Dictionary(records.filter { $0.model == "dense" }.map { ($0.chunk, $0.ne ?? .nan) }, uniquingKeysWith: { a, _ in a })
        var order: [String] = []
        for r in records where !order.contains(r.model) { order.append(r.model) }
        return order.map { model in
            let own = records.filter { $0.model == model }
            let gaps = own.map { ($0.ne ?? .nan) - (denseNE[$0.chunk] ?? .nan) }
            return Row(
                model: model, meanNE: own.map { $0.ne ?? .nan }.reduce(0, +) / Double(own.count),
                meanGap: gaps.reduce(0, +) / Double(gaps.count), worstGap: gaps.max() ?? .nan,
                lifetimeNE: own.last?.lifetimeNE, lifetimeAUC: own.last?.lifetimeAUC,
                regenerations: own.filter(\.regenerated).count, sparsity: own.last?.sparsity ?? 0)
        }
    }

    public static func markdown(_ rows: [Row]) -> String {
        func f(_ v: Double?, _ digits: Int = 4) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        var out =
            "| model | mean NE per chunk | mean NE − dense | worst chunk NE − dense | lifetime NE | lifetime AUC | regenerations | MLP sparsity |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            out +=
                "| \(r.model) | \(f(r.meanNE)) | \(f(r.meanGap)) | \(f(r.worstGap)) | \(f(r.lifetimeNE)) | \(f(r.lifetimeAUC)) | \(r.regenerations) | \(f(100 * r.sparsity, 1))% |\n"
        }
        return out
    }

    /// Two panels: NE per chunk of every model, and each serving model's NE minus the dense model's.
    public static func svg(_ records: [OnlineRecord], title: String) -> String {
        var order: [String] = []
        for r in records where !order.contains(r.model) { order.append(r.model) }
        let chunks = Array(Set(records.map(\.chunk))).sorted()
        let palette = [
            "#000000", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
            "#7f7f7f", "#aec7e8", "#ff9896", "#98df8a", "#ffbb78", "#c5b0d5",
        ]
        func series(_ value: (OnlineRecord) -> Double?) -> [(name: String, color: String, values: [Double])] {
            order.enumerated().map { i, model in
                let byChunk = Dictionary(records.filter { $0.model == model }.map { ($0.chunk, value($0) ?? .nan) }, uniquingKeysWith: { a, _ in a })
                return (model, palette[i % palette.count], chunks.map { byChunk[$0] ?? .nan })
            }
        }
        let denseNE = Dictionary(records.filter { $0.model == "dense" }.map { ($0.chunk, $0.ne ?? .nan) }, uniquingKeysWith: { a, _ in a })
        let x = chunks.map(Double.init)
        let ne = LineChart(title: "NE per chunk (progressive validation)", x: x, series: series(\.ne), xLabel: "chunk", legend: false)
        let gap = LineChart(
            title: "NE − dense NE", x: x, series: series { r in r.ne.map { $0 - (denseNE[r.chunk] ?? .nan) } }, xLabel: "chunk", legend: false)
        let legendRows = (order.count + 2) / 3
        let height = 330 + 18 * legendRows + 24
        var legend = ""
        for (i, model) in order.enumerated() {
            let lx = 60.0 + Double(i % 3) * 280, ly = 330.0 + Double(i / 3) * 18
            legend += String(
                format: "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%@\" stroke-width=\"3\"/>", lx, lx + 20, ly - 4, ly - 4,
                palette[i % palette.count])
            legend += String(format: "<text x=\"%.0f\" y=\"%.0f\">%@</text>\n", lx + 25, ly, model)
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="880" height="\(height)" font-family="sans-serif" font-size="12">
            <rect width="880" height="\(height)" fill="white"/>
            <text x="10" y="\(height - 8)" fill="#555">\(title)</text>
            \(ne.render(originX: 0))
            \(gap.render(originX: 440))
            \(legend)</svg>

            """
    }

    /// Measured inference time of each serving model through the sparse kernels against the dense
    /// model, at each batch size: median of `repeats` forward passes (after a warm-up) on the first
    /// examples of `sample`.
    public struct Speed: Codable, Sendable {
        public var model: String
        public var batchSize: Int
        public var denseMilliseconds: Double
        public var sparseMilliseconds: Double
        public var speedup: Double { denseMilliseconds / sparseMilliseconds }
    }

    public static func inferenceSpeed(_ training: OnlineTraining, sample: [CTRExample], batchSizes: [Int], repeats: Int = 21) throws -> [Speed] {
        var speeds: [Speed] = []
        for batchSize in batchSizes {
            let batch = DLRMTraining.batch(sample.prefix(batchSize))
            func median(_ model: DLRM) throws -> Double {
                try 1000 * Stopwatch.median(minimumRuns: repeats, budget: 0) { _ = try withoutGradient { try model(batch) } }
            }
            let dense = try median(training.dense)
            for (variant, model) in zip(training.configuration.variants, training.serving) {
                let sparse = try OnlineTraining.withSparseMLP(model) { try median(model) }
                speeds.append(Speed(model: variant.description, batchSize: batchSize, denseMilliseconds: dense, sparseMilliseconds: sparse))
            }
        }
        return speeds
    }

    public static func speedMarkdown(_ speeds: [Speed]) -> String {
        var out = "| serving model | batch | dense ms | sparse ms | speedup |\n|---|---:|---:|---:|---:|\n"
        for s in speeds {
            out += String(format: "| %@ | %d | %.3f | %.3f | %.2f× |\n", s.model, s.batchSize, s.denseMilliseconds, s.sparseMilliseconds, s.speedup)
        }
        return out
    }
}
