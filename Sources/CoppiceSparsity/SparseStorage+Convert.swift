import CoppiceFormats
import Foundation

extension SparseStorage {
    /// How `convert` stores the tensors.
    public enum Layout: String, CaseIterable, Sendable {
        /// Every tensor plain F32 (loads anywhere).
        case dense
        /// CSR for tensors with enough zeros.
        case sparse
    }

    /// `coppice convert`: a safetensors file (Coppice's sparse layout or plain) written again in
    /// `layout`, keeping its metadata; returns the tensor count and both file sizes.
    public static func convert(
        _ input: String, to output: String, layout: Layout,
        minimumSparsity: Double = 0.5
    ) throws -> (tensors: Int, bytesBefore: Int, bytesAfter: Int) {
        let tensors = try read(input)
        let metadata = (try SafetensorsFile(path: input).metadata).filter { $0.key != metadataKey }
        switch layout {
        case .dense: try Safetensors.write(tensors, metadata: metadata, to: output)
        case .sparse: try write(tensors, metadata: metadata, minimumSparsity: minimumSparsity, to: output)
        }
        func size(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        return (tensors.count, size(input), size(output))
    }
}
