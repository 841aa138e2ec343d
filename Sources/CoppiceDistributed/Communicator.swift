import CMPI
import Foundation

/// The processes of one run and the collectives that data- and hybrid-parallel training need. `world()`
/// is MPI's world communicator when an MPI launcher (`mpirun`) started this process, else one rank on
/// which every collective is the identity and MPI is never loaded. Collectives wait at most `timeout`
/// seconds: a rank that died turns into a thrown error on the others, never a hang.
public final class Communicator: @unchecked Sendable {
    public enum Operation: Sendable { case sum, mean, max }

    public let rank: Int
    public let size: Int
    /// Whether collectives go through MPI (false: a single process).
    public let usesMPI: Bool
    /// Seconds a collective may wait for the other ranks.
    public var timeout: Double

    public var isRoot: Bool { rank == 0 }

    private init(rank: Int, size: Int, usesMPI: Bool, timeout: Double) {
        (self.rank, self.size, self.usesMPI, self.timeout) = (rank, size, usesMPI, timeout)
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared: Communicator?

    /// The world communicator, initialized once per process (MPI_Init_thread when launched by MPI);
    /// `timeout` applies from the first call.
    public static func world(timeout: Double = 300) throws(DistributedError) -> Communicator {
        lock.lock()
        defer { lock.unlock() }
        if let shared { return shared }
        var made = Communicator(rank: 0, size: 1, usesMPI: false, timeout: timeout)
        if coppice_mpi_launched() != 0 {
            try call { coppice_mpi_init($0, $1) }
            made = Communicator(rank: Int(coppice_mpi_rank()), size: Int(coppice_mpi_size()), usesMPI: true, timeout: timeout)
        }
        shared = made
        return made
    }

    /// The host this rank runs on.
    public var hostName: String {
        guard usesMPI else { return ProcessInfo.processInfo.hostName }
        var name = [CChar](repeating: 0, count: 256)
        coppice_mpi_processor_name(&name, name.count)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func barrier() throws(DistributedError) {
        guard usesMPI else { return }
        try Self.call { coppice_mpi_barrier(timeout, $0, $1) }
    }

    /// `values` from rank `root` on every rank (every rank passes a buffer of the same count).
    public func broadcast(_ values: inout [Float], root: Int = 0) throws(DistributedError) {
        guard usesMPI else { return }
        try checkRoot(root)
        let bytes = values.count * MemoryLayout<Float>.stride
        let error = values.withUnsafeMutableBytes { b in Self.failure { coppice_mpi_broadcast(b.baseAddress, bytes, Int32(root), timeout, $0, $1) } }
        if let error { throw error }
    }

    /// Raw bytes from `root` (checkpoints, masks, plans); every rank passes the same count.
    public func broadcast(bytes values: inout [UInt8], root: Int = 0) throws(DistributedError) {
        guard usesMPI else { return }
        try checkRoot(root)
        let count = values.count
        let error = values.withUnsafeMutableBytes { b in Self.failure { coppice_mpi_broadcast(b.baseAddress, count, Int32(root), timeout, $0, $1) } }
        if let error { throw error }
    }

    /// In place over every rank: the sum, the mean (sum / size) or the maximum of each element.
    public func allReduce(_ values: inout [Float], _ operation: Operation = .sum) throws(DistributedError) {
        guard usesMPI, !values.isEmpty else { return }
        let count = values.count
        let error = values.withUnsafeMutableBufferPointer { v in
            Self.failure { coppice_mpi_allreduce_floats(v.baseAddress, count, operation == .max ? 1 : 0, timeout, $0, $1) }
        }
        if let error { throw error }
        if operation == .mean {
            let scale = 1 / Float(size)
            for i in values.indices { values[i] *= scale }
        }
    }

    /// The same in double precision (statistics, losses).
    public func allReduce(_ values: inout [Double], _ operation: Operation = .sum) throws(DistributedError) {
        guard usesMPI, !values.isEmpty else { return }
        let count = values.count
        let error = values.withUnsafeMutableBufferPointer { v in
            Self.failure { coppice_mpi_allreduce_doubles(v.baseAddress, count, operation == .max ? 1 : 0, timeout, $0, $1) }
        }
        if let error { throw error }
        if operation == .mean { for i in values.indices { values[i] /= Double(size) } }
    }

    /// Every rank's `values` (the same count on each), concatenated in rank order.
    public func allGather(_ values: [Float]) throws(DistributedError) -> [Float] {
        guard usesMPI else { return values }
        var gathered = [Float](repeating: 0, count: values.count * size)
        let error = values.withUnsafeBufferPointer { v in
            gathered.withUnsafeMutableBufferPointer { g in
                Self.failure { coppice_mpi_allgather_floats(v.baseAddress, Int32(v.count), g.baseAddress, timeout, $0, $1) }
            }
        }
        if let error { throw error }
        return gathered
    }

    /// `chunks[r]` goes to rank r; returns what each rank sent this one, in rank order (all-to-all with
    /// counts of any size, as embedding lookups exchange them).
    public func allToAll(_ chunks: [[Float]]) throws(DistributedError) -> [[Float]] {
        guard chunks.count == size else { throw .invalidArgument("all-to-all needs \(size) chunks, one per rank; got \(chunks.count)") }
        guard usesMPI else { return chunks }
        guard chunks.reduce(0, { $0 + $1.count }) <= Int(Int32.max) else { throw .invalidArgument("all-to-all of over 2^31 values") }
        // The counts first, so each rank can size what it receives.
        let sendCounts = chunks.map { Int32($0.count) }
        var receiveCounts = [Int32](repeating: 0, count: size)
        try Self.call { coppice_mpi_alltoall_ints(sendCounts, &receiveCounts, timeout, $0, $1) }
        let send = chunks.flatMap { $0 }
        let sendOffsets = offsets(sendCounts), receiveOffsets = offsets(receiveCounts)
        var receive = [Float](repeating: 0, count: Int(receiveCounts.reduce(0, +)))
        try send.withUnsafeBufferPointer { s throws(DistributedError) in
            try receive.withUnsafeMutableBufferPointer { r throws(DistributedError) in
                try Self.call {
                    coppice_mpi_alltoallv_floats(
                        s.baseAddress, sendCounts, sendOffsets, r.baseAddress, receiveCounts, receiveOffsets, timeout, $0, $1)
                }
            }
        }
        return zip(receiveOffsets, receiveCounts).map { Array(receive[Int($0)..<Int($0 + $1)]) }
    }

    private func offsets(_ counts: [Int32]) -> [Int32] {
        var running: Int32 = 0
        return counts.map { c in
            defer { running += c }
            return running
        }
    }

    private func checkRoot(_ root: Int) throws(DistributedError) {
        guard (0..<size).contains(root) else { throw .invalidArgument("root \(root) is not a rank of \(size)") }
    }

    /// Marks the run failed, so that this rank's exit ends the other ranks (MPI_Abort) rather than
    /// leaving them to wait; nothing without MPI.
    public static func markFailed() { coppice_mpi_mark_failed() }

    /// Ends every rank of the run (MPI_Abort), or this process alone without MPI.
    public func abort(code: Int32) -> Never {
        coppice_mpi_abort(code)
        exit(code)
    }

    /// Runs a C call that fills an error buffer: nil on success, else the error it describes.
    private static func failure(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> DistributedError? {
        var message = [CChar](repeating: 0, count: 512)
        let code = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        return code == 0 ? nil : .mpi(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    private static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws(DistributedError) {
        if let error = failure(body) { throw error }
    }
}
