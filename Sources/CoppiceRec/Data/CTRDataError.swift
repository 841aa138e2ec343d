import Foundation

public enum CTRDataError: Error, Equatable, CustomStringConvertible {
    case missingFile(String)
    case malformed(file: String, line: Int, reason: String)
    /// A size or option out of range, named with what was given.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .missingFile(let path): "\(path) not found (run scripts/fetch-data.sh)"
        case .malformed(let file, let line, let reason): "\(file) line \(line): \(reason)"
        case .invalidArgument(let message): message
        }
    }
}
