import CoppiceFormats
import CoppiceRuns
import Foundation

/// The training loss of every step as CSV (`step,epoch,phase,learning_rate,loss`; `coppice dlrm
/// --loss-log`), appended as the run goes. A resumed run cuts the file back to the steps before its
/// first one, so the log reads as one uninterrupted run's.
public final class DLRMLossLog {
    public static let header = "step,epoch,phase,learning_rate,loss\n"
    let path: String
    var handle: FileHandle?

    public init(path: String) { self.path = path }

    deinit { try? handle?.close() }

    /// Appends one step's line.
    public func record(_ step: DLRMTraining.Step) throws {
        if handle == nil { try open(before: step.step) }
        let line = "\(step.step),\(step.epoch),\(step.phase),\(step.learningRate),\(step.loss)\n"
        do { try handle?.write(contentsOf: Data(line.utf8)) } catch { throw TrainingError.checkpoint("cannot append to \(path): \(error)") }
    }

    /// Starts the file with the lines of steps before `first` (a resumed run's earlier steps), or the
    /// header alone.
    private func open(before first: Int) throws {
        var kept = Self.header
        if first > 1, let old = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in old.split(separator: "\n").dropFirst() {
                guard let step = Int(line.prefix { $0 != "," }), step < first else { break }
                kept += line + "\n"
            }
        }
        try AtomicFile.write(Data(kept.utf8), to: path)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TrainingError.checkpoint("cannot open \(path) to append") }
        try handle.seekToEnd()
        self.handle = handle
    }
}
