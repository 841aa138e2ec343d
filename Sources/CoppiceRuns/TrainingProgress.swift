import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reports training progress: a redrawn bar on a terminal, plain lines otherwise (logs, CI, pipes).
public final class TrainingProgress {
    public enum Style: Sendable { case bar, lines, silent }
    public let style: Style
    private var lastDraw = 0.0

    public init(style: Style) { self.style = style }

    /// A bar when standard error is a terminal, else lines.
    public static func automatic() -> TrainingProgress { TrainingProgress(style: isatty(STDERR_FILENO) == 1 ? .bar : .lines) }

    public func step(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, rate: Double) {
        guard style == .bar else { return }
        let now = Date().timeIntervalSince1970
        guard now - lastDraw > 0.1 || batch == batches else { return }
        lastDraw = now
        let width = 30
        let filled = batches > 0 ? width * batch / batches : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        write(String(format: "\repoch %d/%d %@ %d/%d loss %.4f %.0f img/s ", epoch, epochs, bar, batch, batches, loss, rate))
    }

    /// Ends an epoch with its summary line (after clearing the bar).
    public func epochDone(_ summary: String) {
        guard style != .silent else { return }
        if style == .bar { write("\r\u{1B}[K") }
        write(summary + "\n")
    }

    public func note(_ message: String) {
        guard style != .silent else { return }
        write(message + "\n")
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
