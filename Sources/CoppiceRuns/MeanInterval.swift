import Foundation

/// The mean of a small sample with its two-sided confidence interval from Student's t distribution
/// (the usual interval for a mean of paired differences over a handful of seeds).
public struct MeanInterval: Codable, Sendable, Equatable {
    public var count: Int
    public var mean: Double
    /// Sample standard deviation (n − 1 in the denominator); nan below two values.
    public var standardDeviation: Double
    public var confidence: Double
    /// Interval ends: mean ∓ t(1 − (1 − confidence)/2, n − 1) · sd / √n; nan below two values.
    public var low: Double
    public var high: Double

    public init(_ values: [Double], confidence: Double = 0.95) {
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1), got \(confidence)")
        count = values.count
        self.confidence = confidence
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        guard values.count >= 2 else {
            (standardDeviation, low, high) = (.nan, .nan, .nan)
            return
        }
        let m = mean
        standardDeviation = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        let half =
            StudentT.quantile(1 - (1 - confidence) / 2, degreesOfFreedom: Double(values.count - 1))
            * standardDeviation / Double(values.count).squareRoot()
        (low, high) = (mean - half, mean + half)
    }

    /// Whether the interval lies wholly above (1), wholly below (−1) or around (0) zero.
    public var side: Int { low > 0 ? 1 : high < 0 ? -1 : 0 }
}

/// Student's t distribution: the CDF through the regularized incomplete beta function (Lentz's
/// continued fraction, as Numerical Recipes §6.4), the quantile by bisection on it.
public enum StudentT {
    public static func cdf(_ t: Double, degreesOfFreedom v: Double) -> Double {
        let tail = 0.5 * regularizedBeta(v / (v + t * t), a: v / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    public static func quantile(_ p: Double, degreesOfFreedom v: Double) -> Double {
        precondition(p > 0 && p < 1 && v > 0, "the t quantile needs p in (0, 1) and positive degrees of freedom, got \(p) and \(v)")
        var low = -1e6, high = 1e6
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if cdf(middle, degreesOfFreedom: v) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// I_x(a, b).
    static func regularizedBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront: Double = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x)
        let front = exp(logFront)
        // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
        if x > (a + 1) / (a + b + 2) { return 1 - front * continuedFraction(1 - x, a: b, b: a) / b }
        return front * continuedFraction(x, a: a, b: b) / a
    }

    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        d = 1 / (abs(d) < tiny ? tiny : d)
        var h = d
        for m in 1...300 {
            let m = Double(m)
            let even: Double = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            let odd: Double = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            for numerator in [even, odd] {
                d = 1 + numerator * d
                d = 1 / (abs(d) < tiny ? tiny : d)
                c = 1 + numerator / c
                if abs(c) < tiny { c = tiny }
                h *= d * c
            }
            if abs(d * c - 1) < 1e-15 { break }
        }
        return h
    }
}
