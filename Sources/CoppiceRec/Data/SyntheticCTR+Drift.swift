extension SyntheticCTR.Drift: CustomStringConvertible {
    /// `none`, `abrupt:N` (a new truth every N examples) or `gradual:N`; nil for anything else.
    public init?(parsing text: String) {
        if text == "none" { self = .none; return }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[1]), n > 0 else { return nil }
        switch parts[0] {
        case "abrupt": self = .abrupt(every: n)
        case "gradual": self = .gradual(period: n)
        default: return nil
        }
    }

    /// The spelling `init(parsing:)` reads.
    public var description: String {
        switch self {
        case .none: "none"
        case .abrupt(let every): "abrupt:\(every)"
        case .gradual(let period): "gradual:\(period)"
        }
    }
}
