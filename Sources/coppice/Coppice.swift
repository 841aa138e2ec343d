import ArgumentParser
import CoppiceDistributed
import Foundation

@main
struct Coppice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coppice",
        abstract: "Train, prune and run sparse neural networks on CPU.",
        subcommands: [
            Train.self, Eval.self, Prune.self, SpatialWinogradCommand.self, WinogradCompare.self, DLRMCommand.self, OnlineCommand.self, Generate.self,
            Chat.self, Perplexity.self, PruneLLM.self, Report.self, Convert.self, ConvertLlama.self, Bench.self, Doctor.self, MPICheck.self,
            PlanTables.self, Serve.self,
        ]
    )

    /// With `COPPICE_CHECK_ARGUMENTS` set, the command line is parsed and validated and nothing runs
    /// (exit 0, or the parser's message and its status): how `scripts/check-docs.py` checks that every
    /// documented command still parses.
    static func main() {
        if ProcessInfo.processInfo.environment["COPPICE_CHECK_ARGUMENTS"] != nil {
            do {
                _ = try parseAsRoot()
                Foundation.exit(0)
            } catch { Self.exit(withError: error) }
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // Under mpirun: this rank's failure ends the others too, instead of leaving them waiting.
            Communicator.markFailed()
            Self.exit(withError: error)
        }
    }
}
