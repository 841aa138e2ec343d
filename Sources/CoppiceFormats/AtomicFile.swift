import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader sees either the old content or the new, never a torn mix: the data
/// goes to a temporary file in the same directory, is flushed to disk, then renamed over the target.
/// If writing fails or the process dies midway, the previous file is untouched; the temporary file a
/// killed writer left behind is removed by the next write to the same path.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws(FormatError) {
        try write(to: path) { handle in try handle.write(contentsOf: data) }
    }

    /// Runs `body` on a handle to a temporary file, then publishes it at `path`. If `body` throws, the
    /// temporary file is removed and the error is rethrown as `FormatError.io`.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws(FormatError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + ".tmp-"
        removeAbandoned(in: directory, prefix: prefix)
        let temporary = directory + "/" + prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw .io(path: path, reason: "cannot create a temporary file in \(directory)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary, path) == 0 else {
                throw FormatError.io(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
            }
        } catch let error as FormatError {
            unlink(temporary)
            throw error
        } catch {
            unlink(temporary)
            throw .io(path: path, reason: "\(error)")
        }
    }

    /// Deletes the temporary files of writers to the same target whose process no longer exists (a
    /// run killed while writing its checkpoint); a live writer's file is left alone.
    static func removeAbandoned(in directory: String, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = name.dropFirst(prefix.count).split(separator: "-").first.flatMap({ pid_t($0) }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }
}
