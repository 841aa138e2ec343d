import Dispatch

/// Wall-clock timing: warm-up, then the median of repeated runs within a time budget.
public enum Stopwatch {
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Median seconds per call of `body` over at least `minimumRuns` runs and about `budget` seconds.
    public static func median(minimumRuns: Int = 5, budget: Double = 1.0, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var samples: [Double] = []
        let start = now()
        while samples.count < minimumRuns || (now() - start < budget && samples.count < 1000) {
            let t = now()
            try body()
            samples.append(now() - t)
        }
        return median(of: samples)
    }

    /// The middle of `samples` (the mean of the two middle ones for an even count; 0 for none).
    public static func median(of samples: [Double]) -> Double {
        let sorted = samples.sorted(), middle = sorted.count / 2
        if sorted.isEmpty { return 0 }
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
