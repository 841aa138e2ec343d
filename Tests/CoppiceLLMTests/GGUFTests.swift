import CoppiceFormats
import CoppiceKernels
import CoppiceLLM
import CoppiceNN
import CoppiceTensor
import Foundation
import Testing

@Suite struct GGUFTests {
    func temporary(_ name: String) -> String { NSTemporaryDirectory() + "gguf-\(UUID().uuidString)-\(name)" }

    /// ggml's block formats against their definitions: Q8_0 rounds x/d with d = max|x|/127 (error
    /// at most d/2); Q4_0 has 16 levels d·(q − 8) with the largest-magnitude weight at −8 exactly, so
    /// the opposite end is clipped at 7 levels (error at most d there, d/2 inside).
    @Test func blockQuantizationRoundTrips() {
        var rng = RandomGenerator(seed: 3)
        let x = (0..<96).map { _ in rng.nextUniform() * 4 - 2 }
        for format in BlockQuantization.allCases {
            var bytes = [UInt8](repeating: 0, count: format.byteCount(x.count))
            var back = [Float](repeating: .nan, count: x.count)
            bytes.withUnsafeMutableBytes { raw in x.withUnsafeBufferPointer { format.quantize($0, into: raw) } }
            bytes.withUnsafeBytes { format.dequantize($0, count: x.count, into: &back) }
            for block in 0..<3 {
                let values = x[(block * 32)..<(block * 32 + 32)], amax = values.map(abs).max()!
                let step = format == .q8_0 ? amax / 127 : amax / 8
                let bound = format == .q8_0 ? step / 2 : step
                let error = zip(values, back[(block * 32)..<(block * 32 + 32)]).map { abs($0 - $1) }.max()!
                #expect(error <= bound + amax * 1e-3, "\(format) block \(block): error \(error), step \(step)")
                let extreme = values.max { abs($0) < abs($1) }!
                #expect(abs(back[values.firstIndex(of: extreme)!] - extreme) <= amax * 1e-3, "the extreme weight is kept (to F16)")
            }
        }
        let zeros = [Float](repeating: 0, count: 32)
        var bytes = [UInt8](repeating: 0xFF, count: 34), back = [Float](repeating: .nan, count: 32)
        bytes.withUnsafeMutableBytes { raw in zeros.withUnsafeBufferPointer { BlockQuantization.q8_0.quantize($0, into: raw) } }
        bytes.withUnsafeBytes { BlockQuantization.q8_0.dequantize($0, count: 32, into: &back) }
        #expect(back == zeros, "an all-zero block has scale 0, not NaN")
    }

    @Test func metadataAndTensorsRoundTrip() throws {
        let path = temporary("plain.gguf")
        let matrix = Tensor((0..<(3 * 64)).map { Float($0) / 50 - 2 }).reshaped([3, 64])
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("test")), ("a.u8", .uint8(7)), ("a.i64", .int64(-5)),
            ("a.f64", .float64(0.25)), ("a.bool", .bool(true)),
            ("a.list", .array([.string("x"), .string("y")])), ("general.alignment", .uint32(64)),
        ]
        try GGUFWriter.write(
            metadata: metadata,
            tensors: [
                ("m32", matrix, .f32), ("m16", matrix, .f16), ("q8", matrix, .q8_0), ("q4", matrix, .q4_0),
                ("b16", matrix, .bf16),
            ],
            to: path, alignment: 64)
        let file = try GGUFFile(path: path)
        #expect(file.version == 3 && file.tensorOrder == ["m32", "m16", "q8", "q4", "b16"])
        for (key, value) in metadata { #expect(file.metadata[key] == value, "\(key)") }
        #expect(try file.tensor("m32").scalars == matrix.scalars && file.tensors["m32"]?.shape == [3, 64])
        #expect(zip(try file.tensor("m16").scalars, matrix.scalars).allSatisfy { abs($0 - $1) <= abs($1) * 1e-3 })
        #expect(zip(try file.tensor("q8").scalars, matrix.scalars).allSatisfy { abs($0 - $1) < 0.02 })
        #expect(zip(try file.tensor("q4").scalars, matrix.scalars).allSatisfy { abs($0 - $1) < 0.3 })
        #expect(try file.tensor("b16").scalars == matrix.scalars.map { Float(bitPattern: UInt32(bfloat16Bits($0)) << 16) })
        #expect(throws: FormatError.self) { try file.tensor("missing") }
        #expect(throws: FormatError.self, "rows not in blocks of 32") {
            try GGUFWriter.write(metadata: [], tensors: [("bad", Tensor([1, 2, 3]), .q8_0)], to: temporary("bad.gguf"))
        }
    }

    @Test func corruptFilesAreRefusedWithTheirReason() throws {
        let path = temporary("good.gguf")
        try GGUFWriter.write(metadata: [("k", .string("v"))], tensors: [("t", Tensor((0..<64).map(Float.init)).reshaped([2, 32]), .f32)], to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        func refused(_ data: Data) -> String {
            let bad = temporary("bad.gguf")
            try? data.write(to: URL(fileURLWithPath: bad))
            do { _ = try GGUFFile(path: bad); return "" } catch { return error.description }
        }
        #expect(refused(bytes.prefix(bytes.count - 10)).contains("runs past the end"))
        #expect(refused(bytes.prefix(30)).contains("ends early") || refused(bytes.prefix(30)).contains("runs past"))
        var wrongMagic = bytes
        wrongMagic[0] = 0x58
        #expect(refused(wrongMagic).contains("not a GGUF file"))
        var hugeCount = bytes
        hugeCount.replaceSubrange(8..<16, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(refused(hugeCount).contains("larger than the file allows"))
        #expect(throws: FormatError.self) { try GGUFFile(path: "/nonexistent.gguf") }
    }

    @Test func repeatedNamesAndImpossibleAlignmentsAreRefused() throws {
        let t = Tensor((0..<32).map(Float.init))
        func refused(metadata: [(String, GGUFValue)], tensors: [(String, Tensor, GGUFTensorType)]) -> String {
            let path = temporary("odd.gguf")
            do {
                try GGUFWriter.write(metadata: metadata, tensors: tensors, to: path)
                _ = try GGUFFile(path: path)
                return ""
            } catch { return error.description }
        }
        #expect(refused(metadata: [("k", .uint8(1)), ("k", .uint8(2))], tensors: []).contains("key 'k' appears more than once"))
        #expect(refused(metadata: [], tensors: [("t", t, .f32), ("t", t, .f32)]).contains("tensor name 't' appears more than once"))
        for bad: GGUFValue in [.uint64(1 << 62), .uint32(0), .uint32(24), .string("32"), .int64(-32)] {
            #expect(refused(metadata: [("general.alignment", bad)], tensors: [("t", t, .f32)]).contains("general.alignment"), "\(bad)")
        }
        #expect(refused(metadata: [("general.alignment", .uint32(32))], tensors: [("t", t, .f32)]) == "")
    }

    /// The fixture models through llama.cpp's layout and back: F32 gives the same logits exactly
    /// (the q/k permutation and rope_freqs undo themselves), F16 and Q8_0 close, Q4_0 roughly.
    @Test(arguments: ["tied", "untied"])
    func llamaThroughGGUFKeepsItsLogits(name: String) throws {
        let (model, tokens, _) = try LlamaTests.fixture(name)
        let reference = try withoutGradient { try model(tokens) }.scalars
        let scale = reference.map(abs).max()!
        for (type, tolerance) in [(GGUFTensorType.f32, Float(1e-5)), (.f16, 5e-3), (.bf16, 3e-2), (.q8_0, 3e-2), (.q4_0, 0.5)] {
            let path = temporary("\(name)-\(type).gguf")
            try LlamaGGUF.write(model, tokenizer: nil, type: type, to: path)
            let loaded = try LlamaGGUF.load(path: path, maxSequence: 64)
            #expect(loaded.configuration.tieWordEmbeddings == model.configuration.tieWordEmbeddings)
            let logits = try withoutGradient { try loaded(tokens) }.scalars
            let error = zip(logits, reference).map { abs($0 - $1) }.max()! / scale
            #expect(error < tolerance, "\(type): relative error \(error)")
        }
    }

    /// The vocabulary llama.cpp reads: 128,256 GPT-2-style strings, special tokens as control, and
    /// merges that rebuild each token from two lower-ranked ones.
    @Test func tokenizerVocabularyForLlamaCpp() throws {
        var rng = RandomGenerator(seed: 1)
        var c = LlamaConfiguration(vocabularySize: 128_256, hiddenSize: 16, layers: 1, heads: 2, kvHeads: 1, intermediateSize: 32)
        c.tieWordEmbeddings = true
        let model = try Llama(c, maxSequence: 8, using: &rng)
        let path = temporary("vocab.gguf")
        try LlamaGGUF.write(model, tokenizer: TokenizerTests.tokenizer, type: .f32, to: path)
        let m = try GGUFFile(path: path).metadata
        guard case .array(let tokens) = m["tokenizer.ggml.tokens"], case .array(let merges) = m["tokenizer.ggml.merges"],
            case .array(let types) = m["tokenizer.ggml.token_type"]
        else { Issue.record("no vocabulary"); return }
        #expect(tokens.count == 128_256 && types.count == 128_256 && types[128_000] == .int32(3) && types[0] == .int32(1))
        #expect(tokens[2028] == .string("This") && tokens[374] == .string("Ġis") && tokens[271] == .string("ĊĊ"))
        #expect(tokens[128_009] == .string("<|eot_id|>") && m["tokenizer.ggml.model"] == .string("gpt2"))
        #expect(merges.count > 127_000 && merges.first == .string("Ġ Ġ"))
    }
}

@Suite struct QuantizedRuntimeTests {
    /// The runtime on the GGUF file's own blocks computes what the dequantized model computes, for
    /// every storage type, prefill and decode; Q8_0 / Q4_0 decode (and prefill with rows in eights)
    /// quantizes the activations to int8 blocks as llama.cpp does, which moves the logits by a bounded amount (up to 2e-2 of their
    /// scale on this tiny random model, about what Q8_0 weights alone cost; Q4_0 weights cost 0.5).
    @Test(arguments: GGUFTensorType.written)
    func runtimeOnStoredBlocksMatchesTheDequantizedModel(type: GGUFTensorType) throws {
        let (model, tokens, _) = try LlamaTests.fixture("untied")
        let path = NSTemporaryDirectory() + "runtime-\(UUID().uuidString).gguf"
        try LlamaGGUF.write(model, tokenizer: nil, type: type, to: path)
        let widened = LlamaRuntime(model: try LlamaGGUF.load(path: path, maxSequence: 32), maxSequence: 32, maxBatch: 16)
        let stored = try LlamaGGUF.runtime(path: path, maxSequence: 32, maxBatch: 16)
        // Matrices the kernels take as stored are the file's mapped bytes; q and k (rows reordered) and
        // interleaved ones are copies, and all are with `mapped: false` (--no-mmap), computing the same.
        // The mapping outlives the file's name.
        let copied = try LlamaGGUF.runtime(path: path, maxSequence: 32, maxBatch: 16, mapped: false)
        try FileManager.default.removeItem(atPath: path)
        for name in ["q", "k", "v", "o", "gate", "up", "down"] {
            let m = stored.matrix(layer: 0, name)
            #expect(m.storage.isMapped == (!["q", "k"].contains(name) && !m.interleaved), "\(type) \(name)")
            #expect(!copied.matrix(layer: 0, name).storage.isMapped)
        }
        let expected = try widened.forward(tokens[0], allLogits: true)
        #expect(try copied.forward(tokens[0], allLogits: true) == stored.forward(tokens[0], allLogits: true))
        stored.reset()
        let scale = expected.map(abs).max()!
        // Matrices with rows in eights are interleaved and quantize the activations in prefill too; Q4_1 always does.
        // BF16 rows on a CPU with AVX512-BF16 round the activations to BF16 (8 significant bits), as llama.cpp's.
        let integerDecode = [.q8_0, .q4_0, .q4_1].contains(type) && WeightMatrix.integerKernelsAvailable, integerPrefill = integerDecode
        let q = stored.matrix(layer: 0, "q")
        let bf16Decode = q.roundsActivationsToBF16(count: 1), bf16Prefill = q.roundsActivationsToBF16(count: tokens[0].count)
        let prefill = try stored.forward(tokens[0], allLogits: true)
        let prefillError = zip(prefill, expected).map { abs($0 - $1) }.max()! / scale
        #expect(prefillError < (integerPrefill ? 5e-2 : bf16Prefill ? 1e-2 : 1e-4), "\(type) prefill: \(prefillError)")
        stored.reset()
        let vocabulary = model.configuration.vocabularySize
        for (i, token) in tokens[0].enumerated() {
            let logits = try stored.forward([token])
            let error = zip(logits, expected[(i * vocabulary)...]).map { abs($0 - $1) }.max()! / scale
            #expect(error < (integerDecode ? 5e-2 : bf16Decode ? 1e-2 : 1e-4), "\(type) decode step \(i): \(error)")
        }
    }

    @Test(arguments: WeightMatrix.Format.allCases)
    func runtimeFormatsStayCloseToTheModel(format: WeightMatrix.Format) throws {
        let (model, tokens, expected) = try LlamaTests.fixture("tied")
        let t = tokens[0].count, vocabulary = model.configuration.vocabularySize
        let reference = Array(expected.scalars[0..<(t * vocabulary)]), scale = reference.map(abs).max()!
        let logits = try LlamaRuntime(model: model, format: format, maxSequence: 32).forward(tokens[0], allLogits: true)
        let error = zip(logits, reference).map { abs($0 - $1) }.max()! / scale
        // Q8_0: weights and (on the integer kernels) activations both rounded to int8.
        let tolerance: Float =
            switch format {
            case .f32: 1e-4;
            case .f16: 5e-3;
            case .bf16: 3e-2;
            case .q8_0: 5e-2;
            case .q4_0, .q4_1: 0.5
            }
        #expect(error < tolerance, "\(format): \(error)")
    }
}
