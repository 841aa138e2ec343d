import CoppiceTensor

/// Errors from pruning: each names what was expected and what was found.
public enum PruningError: Error, Equatable, CustomStringConvertible {
    case invalidAmount(String)
    case invalidGranularity(String)
    case shapeMismatch(String)
    case missingGradient(String)
    case invalidRecipe(String)

    public var description: String {
        switch self {
        case .invalidAmount(let m): "invalid pruning amount: \(m)"
        case .invalidGranularity(let m): "invalid granularity: \(m)"
        case .shapeMismatch(let m): "shape mismatch: \(m)"
        case .missingGradient(let m): "missing gradient: \(m)"
        case .invalidRecipe(let m): "invalid recipe: \(m)"
        }
    }
}
