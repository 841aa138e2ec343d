import Foundation
import Synchronization

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
public final class ThreadPool: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `job` is written only by the thread holding `dispatchLock`
    // before `generation` is bumped (release) and read by workers after they observe the bump
    // (acquire); all other shared state is atomic or guarded by `sleepCondition`.

    /// The process-wide pool sized to the active processors (set `COPPICE_NUM_THREADS` to override).
    public static let shared: ThreadPool = {
        let env = ProcessInfo.processInfo.environment["COPPICE_NUM_THREADS"].flatMap { Int($0) }
        return ThreadPool(threadCount: max(1, env ?? ProcessInfo.processInfo.activeProcessorCount))
    }()

    /// Threads that execute a job, the calling thread included.
    public let threadCount: Int

    private let generation = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    private let busyWorkers = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let sleepCondition = NSCondition()
    private let dispatchLock = NSLock()
    private var job: (taskCount: Int, body: (Int) -> Void)?
    /// About 200 µs of spinning on a current x86 core before a worker goes to sleep.
    private let spinLimit = 100_000

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        for index in 1..<self.threadCount {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "coppice-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

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
        job = (taskCount, body)
        nextTask.store(0, ordering: .relaxed)
        busyWorkers.store(threadCount - 1, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            sleepCondition.lock()
            sleepCondition.broadcast()
            sleepCondition.unlock()
        }
        runTasks(taskCount, body)
        while busyWorkers.load(ordering: .acquiring) > 0 {}
        job = nil
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

    private func runTasks(_ taskCount: Int, _ body: (Int) -> Void) {
        while true {
            let task = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            if task >= taskCount { return }
            body(task)
        }
    }

    private func workerLoop() {
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
            if let job { runTasks(job.taskCount, job.body) }
            busyWorkers.subtract(1, ordering: .releasing)
        }
    }
}

extension ThreadPool {
    /// A pool of one: runs everything on the calling thread (for kernels called inside a parallel loop).
    public static let serial = ThreadPool(threadCount: 1)
}
