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
        samples.sort()
        return samples[samples.count / 2]
    }
}
