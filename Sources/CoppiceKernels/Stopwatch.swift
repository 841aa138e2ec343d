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

    /// Median seconds per call of each of `bodies`, run in turns for at least `minimumRounds` rounds and
    /// about `budget` seconds in all. A change in the machine's speed while it runs (clock frequency, a
    /// busy neighbour) falls on every body alike, so the ratios of the medians hold where timing them
    /// one after the other would not. A turn is two calls back to back and times the second: what is
    /// measured is a body called repeatedly, as `median` (and PyTorch's timing in `benchmarks/`) measure
    /// it, not a body starting in the caches the other bodies left.
    public static func interleavedMedians(minimumRounds: Int = 5, budget: Double = 1.0, _ bodies: [() -> Void]) -> [Double] {
        var samples = [[Double]](repeating: [], count: bodies.count)
        let start = now()
        var rounds = 0
        while rounds < minimumRounds || (now() - start < budget && rounds < 1000) {
            for (index, body) in bodies.enumerated() {
                body()
                let t = now()
                body()
                samples[index].append(now() - t)
            }
            rounds += 1
        }
        return samples.map { median(of: $0) }
    }

    /// The middle of `samples` (the mean of the two middle ones for an even count; 0 for none).
    public static func median(of samples: [Double]) -> Double {
        let sorted = samples.sorted(), middle = sorted.count / 2
        if sorted.isEmpty { return 0 }
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
