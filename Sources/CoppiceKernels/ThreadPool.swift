import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small persistent pool of worker threads that spin briefly between jobs, then sleep.
///
/// Waking a sleeping thread through the OS costs tens of microseconds on these machines, more than
/// the whole of many elementwise kernels; a worker that spins for a short while after each job picks
/// up the next one within a few hundred nanoseconds. Workers sleep on a condition variable once the
/// spin budget is spent, so an idle process does not burn a core.
///
/// Calls are serialized: a `parallelFor` issued while the pool is busy (a nested call, or a call from
/// another thread) runs its tasks inline on the calling thread. OpenBLAS is kept at one thread
/// (see `Gemm`) so that this pool is the only source of parallelism and the two never fight.
/// Workers hold the shared state, not the pool, so a pool can be released: its deinit stops them.
public final class ThreadPool: @unchecked Sendable {
    // Invariant for @unchecked Sendable: all mutable state lives in `WorkerState` (see there).

    /// The process-wide pool sized to the online processors, shared among the ranks that Open MPI's
    /// mpirun started on this host (set `COPPICE_NUM_THREADS` to override). Read with getenv/sysconf
    /// rather than Foundation's `ProcessInfo`, which copies the environment.
    public static let shared: ThreadPool = {
        let requested = getenv("COPPICE_NUM_THREADS").flatMap { Int(String(cString: $0)) }
        let ranksHere = getenv("OMPI_COMM_WORLD_LOCAL_SIZE").flatMap { Int(String(cString: $0)) } ?? 1
        return ThreadPool(threadCount: max(1, requested ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) / max(ranksHere, 1)))
    }()

    /// Threads that execute a job, the calling thread included.
    public let threadCount: Int
    private let state: WorkerState
    private let dispatchLock = NSLock()

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        state = WorkerState()
        for index in 1..<self.threadCount {
            let state = self.state
            let thread = Thread { state.workerLoop() }
            thread.name = "coppice-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { state.shutDown() }

    /// Runs `body(task)` for every task in `0..<taskCount`, spread over the pool's threads.
    /// Returns when all tasks have finished.
    /// (`body` is escaping because workers hold it while they run; it is released before returning.)
    public func parallelFor(_ taskCount: Int, _ body: @escaping (Int) -> Void) {
        if taskCount <= 0 { return }
        if taskCount == 1 || threadCount == 1 || !dispatchLock.try() {
            for task in 0..<taskCount { body(task) }
            return
        }
        defer { dispatchLock.unlock() }
        state.run(taskCount, body, workers: threadCount - 1)
    }

    /// Splits `0..<count` into at most `threadCount` contiguous ranges of at least `grain` elements
    /// and runs them in parallel; small work runs inline with no synchronization at all.
    public func parallelRanges(_ count: Int, grain: Int, _ body: @escaping (Range<Int>) -> Void) {
        let pieces = min(threadCount, count / max(1, grain))
        if pieces <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        parallelFor(pieces) { piece in
            body(Self.range(of: piece, in: pieces, count: count))
        }
    }

    /// The `piece`-th of `pieces` near-equal contiguous parts of `0..<count`.
    @inlinable
    public static func range(of piece: Int, in pieces: Int, count: Int) -> Range<Int> {
        let base = count / pieces, extra = count % pieces
        let start = piece * base + min(piece, extra)
        return start..<(start + base + (piece < extra ? 1 : 0))
    }
}

/// What the pool's workers share, kept alive by the workers themselves.
final class WorkerState: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `job` is written only by the dispatching thread (which holds
    // the pool's dispatch lock) before `generation` is bumped (sequentially consistent) and read by
    // workers after they observe the bump; it is cleared only after every worker reported done.
    // Everything else is atomic or guarded by `sleepCondition`.
    private let generation = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    private let busyWorkers = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let sleepCondition = NSCondition()
    private var job: (taskCount: Int, body: (Int) -> Void)?
    /// About 200 µs of spinning on a current x86 core before a worker goes to sleep.
    private let spinLimit = 100_000

    func run(_ taskCount: Int, _ body: @escaping (Int) -> Void, workers: Int) {
        job = (taskCount, body)
        nextTask.store(0, ordering: .relaxed)
        busyWorkers.store(workers, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
        runTasks(taskCount, body)
        while busyWorkers.load(ordering: .acquiring) > 0 {}
        job = nil
    }

    func shutDown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
    }

    private func wakeSleepers() {
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            sleepCondition.lock()
            sleepCondition.broadcast()
            sleepCondition.unlock()
        }
    }

    private func runTasks(_ taskCount: Int, _ body: (Int) -> Void) {
        while true {
            let task = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            if task >= taskCount { return }
            body(task)
        }
    }

    func workerLoop() {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins &+= 1
                if spins >= spinLimit {
                    sleepCondition.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        sleepCondition.wait()
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    sleepCondition.unlock()
                }
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            if let job { runTasks(job.taskCount, job.body) }
            busyWorkers.subtract(1, ordering: .releasing)
        }
    }
}

extension ThreadPool {
    /// A pool of one: runs everything on the calling thread (for kernels called inside a parallel loop).
    public static let serial = ThreadPool(threadCount: 1)
}
