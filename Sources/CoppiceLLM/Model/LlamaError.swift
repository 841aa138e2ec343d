import Foundation

public enum LlamaError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case invalidInput(String)
    case weights(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): "Llama configuration: \(m)"
        case .invalidInput(let m): "Llama input: \(m)"
        case .weights(let m): "Llama weights: \(m)"
        }
    }
}
