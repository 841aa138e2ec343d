import CoppiceTensor
import Foundation

/// A synthetic CTR stream with the Criteo schema (13 dense + 26 categorical features) for scale and
/// drift experiments. Category ids follow a Zipf law over each table (rank r drawn with probability
/// ∝ (r + 1)^(−s)); the label is Bernoulli(σ(b + w·x + Σ_t e_t[id_t])) with planted weights w and
/// per-id effects e_t — or, with a `SyntheticTeacher`, drawn from a wide random DLRM's probability.
/// Example i is a pure function of (seed, i), so any range can be regenerated.
///
/// Drift changes the planted truth and the popularity over the stream index i:
/// - `abrupt(every: n)`: a new truth (and a new popularity order) every n examples;
/// - `gradual(period: n)`: the truth moves linearly from one version to the next over every n
///   examples, and the popularity order rotates by one rank per n / table size examples.
public struct SyntheticCTR: Sendable {
    public enum Drift: Sendable, Equatable { case none, abrupt(every: Int), gradual(period: Int) }

    public var tableSizes: [Int]
    public var denseCount: Int
    public var zipfExponent: Double
    public var drift: Drift
    public var seed: UInt64
    /// Planted intercept: about the log-odds of the base CTR (−1.1 gives roughly 25%).
    public var intercept: Float
    /// The teacher DLRM whose probabilities replace the planted logistic truth (nil: logistic).
    public var teacher: SyntheticTeacher? { teacherModels?.teacher }

    private let cdfs: [Int: [Double]]
    private let teacherModels: SyntheticTeacherModels?

    public init(
        tableSizes: [Int] = Array(repeating: 10_000, count: 26), denseCount: Int = 13, zipfExponent: Double = 1.1,
        drift: Drift = .none, intercept: Float = -1.1, teacher: SyntheticTeacher? = nil, seed: UInt64 = 0
    ) throws(CTRDataError) {
        guard tableSizes.allSatisfy({ $0 > 0 }) && denseCount >= 0 else {
            throw .invalidArgument("table sizes must be positive and the dense count non-negative, got \(tableSizes) and \(denseCount)")
        }
        self.tableSizes = tableSizes
        self.denseCount = denseCount
        self.zipfExponent = zipfExponent
        self.drift = drift
        self.intercept = intercept
        self.seed = seed
        teacherModels = teacher.map(SyntheticTeacherModels.init)
        var cdfs: [Int: [Double]] = [:]
        for n in Set(tableSizes) {
            var total = 0.0
            let weights = (0..<n).map { pow(Double($0 + 1), -zipfExponent) }
            cdfs[n] = weights.map {
                total += $0; return total
            }.map { $0 / total }
        }
        self.cdfs = cdfs
    }

    /// Examples `range` of the stream (labels drawn from the truth's probabilities).
    public func examples(_ range: Range<Int>) throws -> [CTRExample] {
        guard let teacherModels else {
            return range.map { index in
                let (example, u) = features(at: index)
                return labelled(example, u < probability(dense: example.dense, sparse: example.sparse, at: index))
            }
        }
        // The teacher runs on whole blocks, so an example's label does not depend on the range asked for.
        let size = SyntheticTeacher.blockSize
        var out: [CTRExample] = []
        out.reserveCapacity(range.count)
        for block in stride(from: range.lowerBound / size * size, to: range.upperBound, by: size) {
            let drawn = (block..<block + size).map(features)
            let batch = DLRMTraining.batch(drawn.map(\.example)[...])
            let versions = drawn.indices.map { version(at: block + $0) }
            var logits: [Int: [Float]] = [:]
            for v in Set(versions.flatMap { $0.fraction == 0 ? [$0.base] : [$0.base, $0.base + 1] }) {
                logits[v] = try teacherModels.logits(batch, version: v, tableSizes: tableSizes) {
                    DLRMTraining.batch((0..<size).map { features(at: $0).example }[...])
                }
            }
            for (offset, (example, u)) in drawn.enumerated() where range.contains(block + offset) {
                let (base, fraction) = versions[offset]
                var z = logits[base]![offset]
                if fraction > 0 { z = (1 - fraction) * z + fraction * logits[base + 1]![offset] }
                out.append(labelled(example, u < 1 / (1 + exp(-z))))
            }
        }
        return out
    }

    /// Example `index`'s features (unlabelled) and the uniform draw that decides its label.
    private func features(at index: Int) -> (example: CTRExample, u: Float) {
        var rng = RandomGenerator(seed: syntheticMix(seed, UInt64(index), 1))
        let dense = (0..<denseCount).map { _ in Float(log1p(Double(-log(max(rng.nextUniform(), 1e-7))) * 10)) }
        let version = self.version(at: index)
        let sparse: [[Int]] = tableSizes.enumerated().map { table, n in
            let u = Double(rng.nextUniform())
            let rank = lowerBound(cdfs[n]!, u)
            return [(rank + popularityShift(table: table, n: n, at: index, version: version.base)) % n]
        }
        return (CTRExample(label: 0, dense: dense, sparse: sparse, timestamp: index), rng.nextUniform())
    }

    private func labelled(_ example: CTRExample, _ click: Bool) -> CTRExample {
        var example = example
        example.label = click ? 1 : 0
        return example
    }

    /// The first `rows` examples as a dataset named like Criteo's columns (I1…, C1…).
    public func dataset(rows: Int) throws -> CTRDataset {
        CTRDataset(
            denseNames: (0..<denseCount).map { "I\($0 + 1)" }, sparseNames: tableSizes.indices.map { "C\($0 + 1)" },
            tableSizes: tableSizes, examples: try examples(0..<rows))
    }

    /// The planted logistic truth's click probability of features at stream position `index` (the
    /// teacher's is computed in blocks by `examples`).
    public func probability(dense: [Float], sparse: [[Int]], at index: Int) -> Float {
        let (base, fraction) = version(at: index)
        func logit(_ v: Int) -> Float {
            var z = intercept
            // Dense values are centred on their mean (E[log(1 + 10·Exp(1))] ≈ 2.01) so that the intercept sets the base rate.
            for (d, x) in dense.enumerated() { z += (x - 2.01) * 0.3 * unitNormal(seed, UInt64(v), 2, UInt64(d)) }
            for (t, ids) in sparse.enumerated() {
                for id in ids { z += 0.5 * unitNormal(seed, UInt64(v), 3 + UInt64(t), UInt64(id)) }
            }
            return z
        }
        let z = fraction == 0 ? logit(base) : (1 - fraction) * logit(base) + fraction * logit(base + 1)
        return 1 / (1 + exp(-z))
    }

    /// The truth version in force at `index`, and how far (0..<1) the gradual drift has moved to the next.
    func version(at index: Int) -> (base: Int, fraction: Float) {
        switch drift {
        case .none: (0, 0)
        case .abrupt(let every): (index / max(every, 1), 0)
        case .gradual(let period): (index / max(period, 1), Float(index % max(period, 1)) / Float(max(period, 1)))
        }
    }

    private func popularityShift(table: Int, n: Int, at index: Int, version: Int) -> Int {
        switch drift {
        case .none: 0
        case .abrupt: Int(syntheticMix(seed, UInt64(version), 100 + UInt64(table)) % UInt64(n))
        case .gradual(let period): index / max(1, period / n)
        }
    }

    private func lowerBound(_ cdf: [Double], _ u: Double) -> Int {
        var low = 0, high = cdf.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cdf[mid] < u { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// SplitMix64 of a few words: independent streams for (seed, purpose, index).
func syntheticMix(_ words: UInt64...) -> UInt64 {
    var z: UInt64 = 0x9E37_79B9_7F4A_7C15
    for w in words {
        z = (z ^ w) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
    }
    return z
}

/// A standard normal value that depends only on its key (Box–Muller on two hashed uniforms).
private func unitNormal(_ words: UInt64...) -> Float {
    let h = words.reduce(0x51_7CC1_B727_220A) { syntheticMix($0, $1) }
    let u1 = (Double(h >> 11) + 1) / 9_007_199_254_740_993, u2 = Double(syntheticMix(h, 7) >> 11) / 9_007_199_254_740_992
    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
}
