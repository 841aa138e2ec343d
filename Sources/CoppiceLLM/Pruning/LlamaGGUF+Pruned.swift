import CoppiceFormats
import CoppiceKernels
import CoppiceTensor

extension LlamaGGUF {
    /// The GGUF file `input` written again to `output` with every block's seven matrices taken from
    /// `runtime` (pruned there) and stored as `type`, which must keep zeros exact (F32, F16, BF16, Q8_0,
    /// Q4_0; not Q4_1, whose minimum moves them). Everything else is kept: the metadata (tokenizer and
    /// chat template included), and the other tensors in their own type (or F32 where Coppice writes
    /// no such type).
    public static func writePruned(from input: String, runtime: LlamaRuntime, type: GGUFTensorType, to output: String) throws {
        guard [.f32, .f16, .bf16, .q8_0, .q4_0].contains(type) else {
            throw LlamaError.invalidInput("pruned weights stored as \(type.name) would lose their zeros; use f32, f16, bf16, q8_0 or q4_0")
        }
        let file: GGUFFile
        do { file = try GGUFFile(path: input) } catch { throw LlamaError.weights("\(error)") }
        let c = runtime.configuration
        var replaced: [String: Tensor] = [:]
        for l in 0..<c.layers {
            for ((_, gguf), (name, _)) in zip(names(l).filter { !$0.gguf.hasSuffix("norm.weight") }, LlamaRuntime.matrixSites) {
                let (values, rows, columns) = runtime.weights(layer: l, name)
                var t = Tensor(values).reshaped([rows, columns])
                // The runtime holds q and k in rotate-half order; the file in interleaved pairs.
                if name == "q" { t = permute(t, heads: c.heads) }
                if name == "k" { t = permute(t, heads: c.kvHeads) }
                replaced[gguf] = t
            }
        }
        var metadata = file.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let i = metadata.firstIndex(where: { $0.0 == "general.file_type" }) { metadata[i].1 = .uint32(fileType(type)) }
        let tensors = try file.tensorOrder.map { name -> (name: String, tensor: Tensor, type: GGUFTensorType) in
            if let t = replaced[name] { return (name, t, type) }
            let info = file.tensors[name]!
            return (name, try file.tensor(name), GGUFTensorType.written.contains(info.type) ? info.type : .f32)
        }
        do { try GGUFWriter.write(metadata: metadata, tensors: tensors, to: output) } catch { throw LlamaError.weights("\(error)") }
    }
}
