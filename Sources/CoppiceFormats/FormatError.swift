import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from reading and writing files in Coppice's formats.
public enum FormatError: Error, Equatable, CustomStringConvertible {
    case io(path: String, reason: String)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .malformed(let path, let reason): "\(path): \(reason)"
        }
    }
}
