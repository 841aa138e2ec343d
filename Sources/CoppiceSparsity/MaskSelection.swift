import CoppiceTensor

/// Pure mask functions: scores and the previous mask in, a new 0/1 mask out.
///
/// Rules every function keeps: what `previous` removed stays removed (a lower target never revives);
/// groups are chosen by count, lowest score first with ties broken by position, so exactly the asked
/// number is pruned however many scores tie.
public enum MaskSelection {
    /// The mask pruning `amount` of the groups of `granularity` with the lowest scores (higher scores
    /// matter more; a group's score is the sum of its elements' scores).
    public static func mask(
        scores: Tensor, previous: Tensor?, amount: PruningAmount,
        granularity: Granularity
    ) throws(PruningError) -> Tensor {
        if let previous, previous.shape != scores.shape {
            throw .shapeMismatch("previous mask \(previous.shape) for scores \(scores.shape)")
        }
        let values = scores.scalars
        let kept = previous?.scalars.map { $0 != 0 } ?? [Bool](repeating: true, count: values.count)
        if case .nOfM(let n, let m) = granularity {
            return try nOfM(values, kept, shape: scores.shape, n: n, m: m)
        }
        let groups = try groupIndex(shape: scores.shape, granularity: granularity)
        // Group scores, and whether the previous mask already removed the group.
        var groupScore = [Double](repeating: 0, count: groups.count)
        var groupAlive = [Bool](repeating: false, count: groups.count)
        for (element, group) in groups.of.enumerated() {
            groupScore[group] += Double(values[element])
            if kept[element] { groupAlive[group] = true }
        }
        let target = try amount.groups(of: groups.count)
        let alreadyPruned = groupAlive.filter { !$0 }.count
        var prune = Set<Int>()
        if target > alreadyPruned {
            let candidates = (0..<groups.count).filter { groupAlive[$0] }
                .sorted { groupScore[$0] != groupScore[$1] ? groupScore[$0] < groupScore[$1] : $0 < $1 }
            prune = Set(candidates.prefix(target - alreadyPruned))
        }
        let mask = (0..<values.count).map { element -> Float in
            kept[element] && groupAlive[groups.of[element]] && !prune.contains(groups.of[element]) ? 1 : 0
        }
        return Tensor(mask).reshaped(scores.shape)
    }

    /// One mask per tensor, pruning `amount` of all their elements together: the lowest scores across
    /// every tensor go first (global magnitude pruning).
    public static func globalMasks(scores: [Tensor], previous: [Tensor?], amount: PruningAmount) throws(PruningError) -> [Tensor] {
        guard scores.count == previous.count else { throw .shapeMismatch("\(scores.count) score tensors, \(previous.count) masks") }
        var all: [(score: Float, tensor: Int, index: Int)] = []
        var kept: [[Bool]] = []
        var alreadyPruned = 0
        for (t, s) in scores.enumerated() {
            if let p = previous[t], p.shape != s.shape { throw .shapeMismatch("previous mask \(p.shape) for scores \(s.shape)") }
            let k = previous[t]?.scalars.map { $0 != 0 } ?? [Bool](repeating: true, count: s.count)
            kept.append(k)
            for (i, v) in s.scalars.enumerated() {
                if k[i] { all.append((v, t, i)) } else { alreadyPruned += 1 }
            }
        }
        let target = try amount.groups(of: all.count + alreadyPruned)
        if target > alreadyPruned {
            all.sort { $0.score != $1.score ? $0.score < $1.score : ($0.tensor, $0.index) < ($1.tensor, $1.index) }
            for entry in all.prefix(target - alreadyPruned) { kept[entry.tensor][entry.index] = false }
        }
        return zip(scores, kept).map { Tensor($1.map { $0 ? 1 : 0 }).reshaped($0.shape) }
    }

    /// Keeps the N highest scores of every M consecutive along the last axis (fewer where the previous
    /// mask already removed some).
    static func nOfM(_ values: [Float], _ kept: [Bool], shape: [Int], n: Int, m: Int) throws(PruningError) -> Tensor {
        guard let last = shape.last, last % m == 0 else {
            throw .invalidGranularity("\(n):\(m) needs the last axis to be a multiple of \(m), got shape \(shape)")
        }
        var mask = [Float](repeating: 0, count: values.count)
        for start in stride(from: 0, to: values.count, by: m) {
            let alive = (start..<(start + m)).filter { kept[$0] }
                .sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
            for i in alive.prefix(n) { mask[i] = 1 }
        }
        return Tensor(mask).reshaped(shape)
    }

    /// The group of every element, and the number of groups.
    static func groupIndex(shape: [Int], granularity: Granularity) throws(PruningError) -> (of: [Int], count: Int) {
        let total = shape.reduce(1, *)
        switch granularity {
        case .element:
            return (Array(0..<total), total)
        case .slices(let axis):
            guard axis >= 0 && axis < shape.count else { throw .invalidGranularity("axis \(axis) out of range for shape \(shape)") }
            let inner = shape[(axis + 1)...].reduce(1, *)
            return ((0..<total).map { ($0 / inner) % shape[axis] }, shape[axis])
        case .blocks(let r, let c):
            guard shape.count >= 2, r > 0, c > 0 else {
                throw .invalidGranularity("blocks need a weight of rank ≥ 2 and positive sizes, got \(shape)")
            }
            let rows = shape[0], columns = total / rows
            let blockColumns = (columns + c - 1) / c
            let blockRows = (rows + r - 1) / r
            return ((0..<total).map { ($0 / columns / r) * blockColumns + ($0 % columns) / c }, blockRows * blockColumns)
        case .nOfM:
            return (Array(0..<total), total)
        }
    }
}
