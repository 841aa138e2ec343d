import CoppiceFormats
import CoppiceKernels
import CoppiceSparsity
import CoppiceTensor
import Foundation

extension LlamaCheckpoint {
    /// `runtime` (pruned, or compacted) as a Hugging Face directory: `config.json`, and
    /// `model.safetensors` with every matrix of at least half zeros in Coppice's sparse layout
    /// (`SparseStorage`: CSR values, column indices and row starts, the others dense F32; any
    /// safetensors reader opens it, `load` reads it back). Given the GGUF metadata the runtime came
    /// from, its vocabulary goes in as `tokenizer.json` and its chat template and BOS/EOS as
    /// `tokenizer_config.json`, so the directory runs as the file did. Each file is written atomically.
    public static func writePruned(_ runtime: LlamaRuntime, gguf metadata: [String: GGUFValue]?, to directory: String) throws(LlamaError) {
        let c = runtime.configuration
        func dense(_ m: WeightMatrix) -> Tensor { Tensor(m.dequantized()).reshaped([m.rows, m.columns]) }
        var tensors = ["model.embed_tokens.weight": dense(runtime.embedding), "model.norm.weight": Tensor(runtime.finalNorm)]
        if !c.tieWordEmbeddings { tensors["lm_head.weight"] = dense(runtime.output) }
        for (l, layer) in runtime.layers.enumerated() {
            let names = LlamaGGUF.names(l).map(\.hf)
            tensors[names[0]] = Tensor(layer.attentionNorm)
            tensors[names[5]] = Tensor(layer.ffnNorm)
            // The runtime holds q and k in rotate-half order, Hugging Face's.
            for (hf, (name, _)) in zip(names.filter { !$0.hasSuffix("layernorm.weight") }, LlamaRuntime.matrixSites) {
                let (values, rows, columns) = runtime.weights(layer: l, name)
                tensors[hf] = Tensor(values).reshaped([rows, columns])
            }
        }
        let id = { (key: String) in metadata?[key]?.integer }
        do {
            try writeConfiguration(c, bos: id("tokenizer.ggml.bos_token_id"), eos: [id("tokenizer.ggml.eos_token_id") ?? 128001], to: directory)
            try SparseStorage.write(tensors, metadata: ["format": "pt"], to: directory + "/model.safetensors")
            if let metadata {
                try AtomicFile.write(try HuggingFaceTokenizer.tokenizerJSON(gguf: metadata), to: directory + "/tokenizer.json")
                try AtomicFile.write(try HuggingFaceTokenizer.tokenizerConfigJSON(gguf: metadata), to: directory + "/tokenizer_config.json")
            }
        } catch let error as LlamaError {
            throw error
        } catch {
            throw .weights("cannot write \(directory): \(error)")
        }
    }
}
