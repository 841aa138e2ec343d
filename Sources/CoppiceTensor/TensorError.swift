import CoppiceKernels

/// Errors from tensor construction and from operations on user-supplied data.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(String)
    case invalidShape([Int], reason: String)
    case indexOutOfRange(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let message): "shape mismatch: \(message)"
        case .invalidShape(let shape, let reason): "invalid shape \(shape): \(reason)"
        case .indexOutOfRange(let message): "index out of range: \(message)"
        }
    }
}
