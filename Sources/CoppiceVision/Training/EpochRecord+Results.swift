import CoppiceRuns

extension EpochRecord {
    /// A run's final numbers as result rows: the last epoch's accuracy and losses, the mean epoch time.
    public static func resultRows(_ history: [EpochRecord], name: String) -> [BenchmarkResult] {
        guard let last = history.last else { return [] }
        let mean = history.map(\.seconds).reduce(0, +) / Double(history.count)
        return [
            BenchmarkResult(suite: "train", case: name, metric: "test accuracy", unit: "%", value: 100 * last.testAccuracy),
            BenchmarkResult(suite: "train", case: name, metric: "test loss", unit: "nats", value: last.testLoss),
            BenchmarkResult(suite: "train", case: name, metric: "train loss", unit: "nats", value: last.trainLoss),
            BenchmarkResult(suite: "train", case: name, metric: "epoch time", unit: "s", value: mean),
        ]
    }
}
