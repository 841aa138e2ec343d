import ArgumentParser
import CoppiceFormats
import CoppiceSparsity
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert weights between Coppice's sparse safetensors and plain dense safetensors for other tools.")

    enum Layout: String, ExpressibleByArgument, CaseIterable { case dense, sparse }

    @Argument(help: "Input safetensors file.") var input: String
    @Argument(help: "Output safetensors file.") var output: String
    @Option(help: "dense: every tensor plain F32 (loads anywhere); sparse: CSR for tensors with enough zeros.")
    var to: Layout = .dense
    @Option(name: .customLong("min-sparsity"), help: "With --to sparse: store as CSR only tensors at least this sparse.")
    var minimumSparsity = 0.5

    func validate() throws {
        guard (0...1).contains(minimumSparsity) else { throw ValidationError("--min-sparsity must be in [0, 1], got \(minimumSparsity)") }
    }

    func run() throws {
        let tensors = try SparseStorage.read(input)
        let metadata = (try SafetensorsFile(path: input).metadata).filter { $0.key != SparseStorage.metadataKey }
        switch to {
        case .dense: try Safetensors.write(tensors, metadata: metadata, to: output)
        case .sparse: try SparseStorage.write(tensors, metadata: metadata, minimumSparsity: minimumSparsity, to: output)
        }
        let before = (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
        let after = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        print("\(output): \(tensors.count) tensors, \(before) → \(after) bytes")
    }
}
