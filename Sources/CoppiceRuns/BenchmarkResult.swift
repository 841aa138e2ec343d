import Foundation

/// One measured number: `suite` and `case` say what ran, `metric` and `unit` what was measured.
public struct BenchmarkResult: Codable, Sendable, Equatable {
    public var suite: String
    public var `case`: String
    public var metric: String
    public var unit: String
    public var value: Double

    public init(suite: String, case name: String, metric: String, unit: String, value: Double) {
        self.suite = suite
        self.case = name
        self.metric = metric
        self.unit = unit
        self.value = value
    }
}
