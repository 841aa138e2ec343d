import ArgumentParser
import CoppiceSparsity

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert weights between Coppice's sparse safetensors and plain dense safetensors for other tools.")

    @Argument(help: "Input safetensors file.") var input: String
    @Argument(help: "Output safetensors file.") var output: String
    @Option(help: "dense: every tensor plain F32 (loads anywhere); sparse: CSR for tensors with enough zeros.")
    var to: SparseStorage.Layout = .dense
    @Option(name: .customLong("min-sparsity"), help: "With --to sparse: store as CSR only tensors at least this sparse.")
    var minimumSparsity = 0.5

    func validate() throws {
        guard (0...1).contains(minimumSparsity) else { throw ValidationError("--min-sparsity must be in [0, 1], got \(minimumSparsity)") }
    }

    func run() throws {
        let (count, before, after) = try SparseStorage.convert(input, to: output, layout: to, minimumSparsity: minimumSparsity)
        print("\(output): \(count) tensors, \(before) → \(after) bytes")
    }
}
