import Foundation
import CoppiceKernels
import CoppiceNN
import CoppiceTensor

/// The masks of spatial-Winograd pruning (Yu, Park & Naumov 2019; papers.md §1.4–1.5), as pure
/// functions of weights. Masks are 1 where a weight is kept and 0 where it is pruned.
public enum WinogradPruning {
    /// Spatial structured pruning: within each 3×3 kernel, a Winograd position's whole support set
    /// (a corner, an edge, or the whole kernel) is pruned when its largest |w| is below `threshold`,
    /// so the pruned positions of G W Gᵀ are exact zeros whatever the kept weights become.
    public static func structuredMask(weight: Tensor, threshold: Float, transform: WinogradTransform = .f4x3) throws(PruningError) -> Tensor {
        let kernels = try checkedKernels(weight)
        let table = SupportTable(transform)
        let values = weight.scalars
        var mask = [Float](repeating: 1, count: values.count)
        for kernel in 0..<kernels {
            let pruned = table.prunedBits(values, kernel: kernel, threshold: threshold)
            for j in 0..<9 where pruned & (1 << j) != 0 { mask[kernel * 9 + j] = 0 }
        }
        return Tensor(mask).reshaped(weight.shape)
    }

    /// `structuredMask` at the threshold where the layer's Winograd-domain sparsity (exact zeros of
    /// G (W ⊙ mask) Gᵀ) first reaches `target`, found by bisection on [0, max |w|] as the paper's code
    /// does. Returns the mask, its threshold and the sparsity reached.
    public static func structuredMask(weight: Tensor, winogradSparsity target: Double, transform: WinogradTransform = .f4x3)
        throws(PruningError) -> (mask: Tensor, threshold: Float, sparsity: Double)
    {
        guard (0...1).contains(target) else { throw .invalidAmount("Winograd sparsity must be in [0, 1], got \(target)") }
        let kernels = try checkedKernels(weight)
        let table = SupportTable(transform)
        let values = weight.scalars
        let positions = Double(kernels * transform.n * transform.n)
        // Zeros already in W count: a support set of zeros has max 0, pruned at any positive threshold.
        func sparsity(_ t: Float) -> Double {
            var zeros = 0
            for kernel in 0..<kernels { zeros += table.zeros[table.prunedBits(values, kernel: kernel, threshold: t)] }
            return Double(zeros) / positions
        }
        var low: Float = 0, high = (values.map(abs).max() ?? 0) * 1.0001 + Float.leastNormalMagnitude
        if target == 0 { high = 0 }
        for _ in 0..<100 where high - low > high * 1e-7 && target > 0 {
            let mid = (low + high) / 2
            if sparsity(mid) < target { low = mid } else { high = mid }
        }
        return (try structuredMask(weight: weight, threshold: high, transform: transform), high, sparsity(high))
    }

    /// Winograd direct pruning: prune Q [K, C, n, n] where |Q|·F < t, with t such that `sparsity` of Q is
    /// pruned (exactly that count: the lowest importances go first, ties by position). `importance` is
    /// the n×n matrix F (`WinogradTransform.importanceFactors`); nil ranks by |Q| alone (Li et al. 2017).
    /// What `previous` pruned stays pruned.
    public static func winogradDomainMask(
        weight q: Tensor, sparsity: Double, importance: [Float]?,
        previous: Tensor? = nil
    ) throws(PruningError) -> Tensor {
        guard q.rank == 4, q.shape[2] == q.shape[3] else { throw .shapeMismatch("Winograd weights must be [K, C, n, n], got \(q.shape)") }
        let n = q.shape[2]
        if let importance, importance.count != n * n {
            throw .shapeMismatch("importance factors for \(Int(Double(importance.count).squareRoot())) × same tiles, weights have \(n)×\(n)")
        }
        let factors = Tensor(importance ?? [Float](repeating: 1, count: n * n)).reshaped([n, n])
        let scores = withoutGradient { q.detached().abs() * factors }
        return try MaskSelection.mask(scores: scores, previous: previous, amount: .fraction(sparsity), granularity: .element)
    }

    /// Exact zeros of G W Gᵀ for spatial 3×3 weights W [K, C, 3, 3] (as the paper's code counts them).
    public static func winogradZeros(spatialWeight w: Tensor, transform: WinogradTransform = .f4x3) -> (zeros: Int, count: Int) {
        zeros(of: winogradWeights(w.detached(), transform: transform))
    }

    /// Exact zeros of a tensor, and its size.
    public static func zeros(of t: Tensor) -> (zeros: Int, count: Int) {
        (t.scalars.filter { $0 == 0 }.count, t.count)
    }

    /// F^(−exponent) as an [n, n] tensor: the gradient scale of Winograd-domain retraining.
    public static func gradientScale(_ transform: WinogradTransform, exponent: Double) -> Tensor {
        Tensor(transform.importanceFactors.map { Float(pow(Double($0), -exponent)) }).reshaped([transform.n, transform.n])
    }

    private static func checkedKernels(_ weight: Tensor) throws(PruningError) -> Int {
        guard weight.rank == 4, weight.shape[2] == 3, weight.shape[3] == 3 else {
            throw .shapeMismatch("spatial-Winograd pruning needs 3×3 kernels [K, C, 3, 3], got \(weight.shape)")
        }
        return weight.shape[0] * weight.shape[1]
    }
}

/// The support sets of a transform as 9-bit masks of spatial positions, and for every set of pruned
/// spatial positions the number of Winograd positions that become exact zeros.
struct SupportTable {
    let sets: [Int]
    let zeros: [Int]

    init(_ t: WinogradTransform) {
        let supports = t.supportSets.map { $0.reduce(0) { $0 | (1 << $1) } }
        sets = Array(Set(supports)).sorted()
        zeros = (0..<512).map { pruned in supports.filter { $0 & pruned == $0 }.count }
    }

    /// The spatial positions of one kernel pruned at `threshold`: the union of the support sets whose
    /// largest |w| is below it.
    @inline(__always)
    func prunedBits(_ values: [Float], kernel: Int, threshold: Float) -> Int {
        var pruned = 0
        for set in sets {
            var largest: Float = 0
            for j in 0..<9 where set & (1 << j) != 0 { largest = max(largest, abs(values[kernel * 9 + j])) }
            if largest < threshold { pruned |= set }
        }
        return pruned
    }
}
