/// A failed collective or a bad request to one: the message names the MPI call and the rank.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// MPI reported an error, timed out, or could not be loaded.
    case mpi(String)
    /// Arguments that cannot describe the collective (counts that do not match the ranks).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .mpi(let message): "MPI: \(message)"
        case .invalidArgument(let message): "distributed: \(message)"
        }
    }
}
