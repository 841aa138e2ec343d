/// The schedules a pruning run picks by name (`coppice prune --schedule`), spread over a run's steps.
public enum PruningScheduleKind: String, CaseIterable, Codable, Sendable {
    /// Everything at the first step.
    case oneshot
    /// Ten equal stages over the first two thirds of the run.
    case iterative
    /// Zhu & Gupta's cubic ramp over the first two thirds, in 40ths of the run.
    case gmp

    /// The schedule reaching `sparsity` within a run of `totalSteps` steps.
    public func schedule(sparsity: Double, totalSteps: Int) -> SparsitySchedule {
        switch self {
        case .oneshot: return .oneShot(sparsity: sparsity, step: 0)
        case .iterative: return .iterative(sparsity: sparsity, start: 0, stages: 10, frequency: max(1, totalSteps * 2 / 3 / 10))
        case .gmp:
            let frequency = max(1, totalSteps / 40)
            return .gradual(
                initial: 0, final: sparsity, start: 0, end: max(frequency, (totalSteps * 2 / 3) / frequency * frequency),
                frequency: frequency)
        }
    }
}
