import CoppiceNN
import CoppiceTensor

public enum DLRMError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case invalidBatch(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): "DLRM configuration: \(m)"
        case .invalidBatch(let m): "DLRM batch: \(m)"
        }
    }
}
