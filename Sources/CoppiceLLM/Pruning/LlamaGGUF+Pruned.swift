import CoppiceFormats
import CoppiceKernels
import CoppiceTensor

extension LlamaGGUF {
    /// The GGUF file `input` written again to `output` with its blocks taken from `runtime` (pruned,
    /// or compacted into fewer blocks or a narrower FFN: `llama.block_count` and
    /// `llama.feed_forward_length` follow the runtime), every block's seven matrices stored as `type`,
    /// which must keep zeros exact (F32, F16, BF16, Q8_0, Q4_0; not Q4_1, whose minimum moves them).
    /// Everything else is kept: the metadata (tokenizer and chat template included), and the other
    /// tensors in their own type (or F32 where Coppice writes no such type).
    public static func writePruned(from input: String, runtime: LlamaRuntime, type: GGUFTensorType, to output: String) throws {
        guard [.f32, .f16, .bf16, .q8_0, .q4_0].contains(type) else {
            throw LlamaError.invalidInput("pruned weights stored as \(type.name) would lose their zeros; use f32, f16, bf16, q8_0 or q4_0")
        }
        let file: GGUFFile
        do { file = try GGUFFile(path: input) } catch { throw LlamaError.weights("\(error)") }
        let c = runtime.configuration
        var blocks: [(name: String, tensor: Tensor, type: GGUFTensorType)] = []
        for l in 0..<c.layers {
            let layer = runtime.layers[l]
            blocks.append(("blk.\(l).attn_norm.weight", Tensor(layer.attentionNorm), .f32))
            blocks.append(("blk.\(l).ffn_norm.weight", Tensor(layer.ffnNorm), .f32))
            for ((_, gguf), (name, _)) in zip(names(l).filter { !$0.gguf.hasSuffix("norm.weight") }, LlamaRuntime.matrixSites) {
                let (values, rows, columns) = runtime.weights(layer: l, name)
                var t = Tensor(values).reshaped([rows, columns])
                // The runtime holds q and k in rotate-half order; the file in interleaved pairs.
                if name == "q" { t = permute(t, heads: c.heads) }
                if name == "k" { t = permute(t, heads: c.kvHeads) }
                blocks.append((gguf, t, type))
            }
        }
        var metadata = file.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        for (key, value) in [
            ("general.file_type", UInt32(fileType(type))), ("llama.block_count", UInt32(c.layers)),
            ("llama.feed_forward_length", UInt32(c.intermediateSize)),
        ] {
            if let i = metadata.firstIndex(where: { $0.0 == key }) { metadata[i].1 = .uint32(value) }
        }
        // The file's order, the blocks where its first block tensor was.
        var tensors: [(name: String, tensor: Tensor, type: GGUFTensorType)] = []
        for name in file.tensorOrder {
            if name.hasPrefix("blk.") {
                tensors += blocks
                blocks = []
                continue
            }
            let info = file.tensors[name]!
            tensors.append((name, try file.tensor(name), GGUFTensorType.written.contains(info.type) ? info.type : .f32))
        }
        do { try GGUFWriter.write(metadata: metadata, tensors: tensors, to: output) } catch { throw LlamaError.weights("\(error)") }
    }
}
