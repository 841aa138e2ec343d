import CoppiceTensor

/// How much to prune: a fraction of the prunable groups, or an exact number of them.
public enum PruningAmount: Sendable, Equatable, Codable {
    case fraction(Double)
    case count(Int)

    /// The number of groups out of `total` this amount asks for.
    func groups(of total: Int) throws(PruningError) -> Int {
        switch self {
        case .fraction(let f):
            guard f >= 0 && f <= 1 else { throw .invalidAmount("a fraction must be in [0, 1], got \(f)") }
            return Int((f * Double(total)).rounded())
        case .count(let n):
            guard n >= 0 && n <= total else { throw .invalidAmount("a count must be in 0...\(total), got \(n)") }
            return n
        }
    }
}

/// What is pruned together.
public enum Granularity: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Single weights (unstructured).
    case element
    /// Whole slices along `axis`: axis 0 of a Linear weight [out, in] is output neurons, axis 1 input
    /// features; axis 0 of a Conv2D weight [K, C, R, S] is output channels.
    case slices(axis: Int)
    /// Rectangular blocks of the weight viewed as [shape[0], rest] (edge blocks may be smaller).
    case blocks(rows: Int, columns: Int)
    /// N:M: in every run of M consecutive weights along the last axis, at most N are kept.
    case nOfM(n: Int, m: Int)

    public var description: String {
        switch self {
        case .element: "unstructured"
        case .slices(let axis): "slices:\(axis)"
        case .blocks(let r, let c): "block:\(r)x\(c)"
        case .nOfM(let n, let m): "\(n):\(m)"
        }
    }

    /// Parses the CLI spelling: `unstructured`, `slices:AXIS`, `block:RxC`, `N:M`.
    public init(parsing text: String) throws(PruningError) {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        if parts == ["unstructured"] || parts == ["element"] { self = .element; return }
        if parts.count == 2, parts[0] == "slices", let axis = Int(parts[1]) { self = .slices(axis: axis); return }
        if parts.count == 2, parts[0] == "block" {
            let dims = parts[1].split(separator: "x").compactMap { Int($0) }
            if dims.count == 2, dims.allSatisfy({ $0 > 0 }) { self = .blocks(rows: dims[0], columns: dims[1]); return }
        }
        if parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]), n > 0, m > n { self = .nOfM(n: n, m: m); return }
        throw .invalidGranularity("expected unstructured, slices:AXIS, block:RxC or N:M (e.g. 2:4), got '\(text)'")
    }
}
