import Foundation

/// Output formats shared by every report.
public enum ReportFormat: String, CaseIterable, Sendable {
    case md, csv, json

    public func render(_ results: [BenchmarkResult]) throws -> String {
        switch self {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: try encoder.encode(results), as: UTF8.self)
        case .csv:
            let rows = results.map { r in
                [r.suite, r.case, r.metric, r.unit, format(r.value)].map(csvField).joined(separator: ",")
            }
            return (["suite,case,metric,unit,value"] + rows).joined(separator: "\n")
        case .md:
            let rows = results.map { "| \($0.suite) | \($0.case) | \($0.metric) | \(format($0.value)) | \($0.unit) |" }
            return (["| suite | case | metric | value | unit |", "|---|---|---|---:|---|"] + rows).joined(separator: "\n")
        }
    }

    private func format(_ value: Double) -> String {
        abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.4g", value)
    }

    private func csvField(_ field: String) -> String {
        field.contains(",") || field.contains("\"") ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
