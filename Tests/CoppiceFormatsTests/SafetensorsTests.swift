import CoppiceFormats
import CoppiceTensor
import CoppiceTestSupport
import Foundation
import Testing

@Suite struct SafetensorsTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    let directory: String = {
        let path = NSTemporaryDirectory() + "coppice-st-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    @Test func readsTheFileWrittenByHuggingFacesPackage() throws {
        let file = try SafetensorsFile(path: Self.fixtures + "/reference.safetensors")
        #expect(file.metadata == ["format": "pt", "producer": "coppice fixture"])
        let expected: [Float] = [0, 1, -2.5, 3.140625, 1e-3, 65504]
        #expect(try file.tensor("f32.matrix").scalars == expected)
        #expect(try file.tensor("f32.matrix").shape == [2, 3])
        let half = try file.tensor("f16.matrix").scalars
        #expect(half == expected.map { Float(Float16($0)) })
        let brain = try file.tensor("bf16.matrix").scalars
        #expect(brain[0...3] == [0, 1, -2.5, 3.140625] && Swift.abs(brain[4] - 1e-3) < 1e-5 && brain[5] == 65536)
        #expect(try file.tensor("f32.vector").scalars == [0, 0.5, 1, 1.5, 2])
        #expect(try file.tensor("f32.scalar").shape == [] && file.tensor("f32.scalar").item == 7.25)
        #expect(try file.tensor("f32.empty").shape == [0, 3])
        #expect(throws: FormatError.self) { try file.tensor("missing") }
    }

    @Test(arguments: [SafetensorsDType.f32, .f16, .bf16])
    func writesAndReadsBackExactly(dtype: SafetensorsDType) throws {
        let path = directory + "/out-\(dtype.rawValue).safetensors"
        let a = testTensor([3, 5], seed: 1), b = testTensor([7], seed: 2)
        try Safetensors.write(["layer.weight": a, "layer.bias": b], metadata: ["note": "hi"], dtype: dtype, to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["note": "hi"] && file.names == ["layer.bias", "layer.weight"])
        let back = try file.tensor("layer.weight")
        switch dtype {
        case .f32: #expect(back.scalars == a.scalars)
        case .f16: #expect(back.scalars == a.scalars.map { Float(Float16($0)) })
        case .bf16: #expect(try back.scalars == Tensor(shape: [15], bfloat16Bits: a.bfloat16Bits()).scalars)
        case .i32: Issue.record("float tensors are not written as I32")
        }
        let header = FileManager.default.contents(atPath: path)!
        let length = header.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(length % 8 == 0, "header padded to 8 bytes as Hugging Face's writer does")
    }

    /// Builds a file from a header string and a data section.
    func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> String {
        var bytes = Data()
        let json = Data(header.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(json)
        bytes.append(contentsOf: data)
        let path = directory + "/bad-\(UUID().uuidString).safetensors"
        FileManager.default.createFile(atPath: path, contents: bytes)
        return path
    }

    func error(_ path: String) -> String {
        do { _ = try SafetensorsFile(path: path); return "no error" } catch { return error.description }
    }

    @Test func malformedFilesGiveClearErrors() {
        let eight = [UInt8](repeating: 0, count: 8)
        #expect(error(directory + "/missing").contains("cannot open"))
        let tiny = directory + "/tiny"
        FileManager.default.createFile(atPath: tiny, contents: Data([1, 2, 3]))
        #expect(error(tiny).contains("less than the 8-byte header length"))
        #expect(error(file(header: "{}", declaredLength: 1 << 40)).contains("runs past the end"))
        #expect(error(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0])).contains("outside"))
        #expect(error(file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight)).contains("needs 12 bytes"))
        #expect(
            error(
                file(
                    header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#,
                    data: eight)
            ).contains("overlap"))
        #expect(error(file(header: #"{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, data: [0])).contains("dtype I8"))
        #expect(error(file(header: #"{"a":{"dtype":"I32","shape":[3],"data_offsets":[0,8]}}"#, data: eight)).contains("needs 12 bytes"))
        #expect(error(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: eight)).contains("non-negative"))
        #expect(error(file(header: "not json")).contains("not a JSON object"))
        #expect(error(file(header: "{\"\u{FFFD}\":1}".replacingOccurrences(of: "\u{FFFD}", with: "x"))).contains("needs dtype"))
        var invalidUTF8 = Data()
        let raw: [UInt8] = [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]
        withUnsafeBytes(of: UInt64(raw.count).littleEndian) { invalidUTF8.append(contentsOf: $0) }
        invalidUTF8.append(contentsOf: raw)
        let path = directory + "/utf8.safetensors"
        FileManager.default.createFile(atPath: path, contents: invalidUTF8)
        #expect(error(path).contains("not valid UTF-8"))
        #expect(error(file(header: #"{"__metadata__":{"k":1}}"#)).contains("is not a string"))
    }

    /// The format's validity rules the official loader enforces: tensors tile the data section exactly
    /// and names are unique; sizes computed from the file never trap on overflow.
    @Test func dataNotCoveredExactlyOrRepeatedNamesAreRefused() {
        let four = [UInt8](repeating: 0, count: 4)
        let eight = [UInt8](repeating: 0, count: 8)
        let one = #""dtype":"F32","shape":[1]"#
        #expect(error(file(header: "{\"a\":{\(one),\"data_offsets\":[4,8]}}", data: eight)).contains("[0, 4) belong to no tensor"))
        #expect(
            error(file(header: "{\"a\":{\(one),\"data_offsets\":[0,4]},\"b\":{\(one),\"data_offsets\":[8,12]}}", data: eight + four))
                .contains("[4, 8) belong to no tensor (gap before 'b')"))
        #expect(error(file(header: "{\"a\":{\(one),\"data_offsets\":[0,4]}}", data: eight)).contains("8 bytes but its tensors cover 4"))
        #expect(error(file(header: "{}", data: four)).contains("4 bytes but its tensors cover 0"))
        #expect(
            error(file(header: "{\"a\":{\(one),\"data_offsets\":[0,4]},\"a\":{\(one),\"data_offsets\":[4,8]}}", data: eight))
                .contains("names 'a' more than once"))
        #expect(
            error(file(header: "{\"a\":{\(one),\"data_offsets\":[0,4]},\"\\u0061\":{\(one),\"data_offsets\":[4,8]}}", data: eight))
                .contains("names 'a' more than once"))
        // 2^62 elements of 4 bytes wrap to 0 bytes in 64 bits.
        #expect(error(file(header: #"{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#)).contains("overflows"))
        #expect(error(file(header: "{\"a\":{\(one),\"data_offsets\":[0,4]}}   ", data: four)) == "no error")
    }

    @Test func anInterruptedWriteLeavesThePreviousFileLoadable() throws {
        let path = directory + "/checkpoint.safetensors"
        try Safetensors.write(["w": Tensor([1, 2, 3])], to: path)
        struct Interrupted: Error {}
        #expect(throws: FormatError.self) {
            try AtomicFile.write(to: path) { handle in
                try handle.write(contentsOf: Data(repeating: 0xAB, count: 1000))
                throw Interrupted()
            }
        }
        #expect(try SafetensorsFile(path: path).tensor("w").scalars == [1, 2, 3])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
        // A writer killed mid-write leaves its temporary file: the next write removes it, not a live writer's.
        let name = URL(fileURLWithPath: path).lastPathComponent
        let abandoned = directory + "/.\(name).tmp-2147483646-17", live = directory + "/.\(name).tmp-\(getpid())-18"
        let other = directory + "/.other.safetensors.tmp-2147483646-19"
        for file in [abandoned, live, other] { #expect(FileManager.default.createFile(atPath: file, contents: Data([1]))) }
        try Safetensors.write(["w": Tensor([4])], to: path)
        #expect(!FileManager.default.fileExists(atPath: abandoned) && FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: other), "another target's files are not touched")
    }
}
