/// Errors that stop a training run, each saying what to do about it.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case nonFiniteLoss(step: Int, epoch: Int, layer: String)
    case checkpoint(String)
    case data(String)
    /// A collective between the ranks of a distributed run failed or timed out.
    case distributed(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): "invalid configuration: \(message)"
        case .nonFiniteLoss(let step, let epoch, let layer):
            "loss became NaN or infinite at step \(step) (epoch \(epoch)); first non-finite values in \(layer). Lower the learning rate or check the data."
        case .checkpoint(let message): "checkpoint: \(message)"
        case .data(let message): "data: \(message)"
        case .distributed(let message): "distributed run: \(message)"
        }
    }
}
