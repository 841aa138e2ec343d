import CoppiceTensor

/// Errors from loading state into a module.
public enum ModuleError: Error, Equatable, CustomStringConvertible {
    case missingKey(String)
    case unexpectedKey(String)
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingKey(let key): "state dict has no entry for '\(key)'"
        case .unexpectedKey(let key): "state dict entry '\(key)' matches no parameter or buffer of the module"
        case .shapeMismatch(let key, let expected, let found): "'\(key)': expected shape \(expected), found \(found)"
        }
    }
}
