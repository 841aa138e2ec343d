import CZlib
import Foundation

/// Errors from reading datasets: what was expected, what was found, and where.
public enum DataError: Error, Equatable, CustomStringConvertible {
    case missing(path: String, hint: String)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path, let hint): "\(path): not found (\(hint))"
        case .malformed(let path, let reason): "\(path): \(reason)"
        }
    }
}
