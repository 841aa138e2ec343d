import CoppiceFormats
import Foundation
import Testing

/// Safetensors files from strangers, beyond the rules `SafetensorsTests` checks one by one: a corpus of
/// headers that break the format (sizes of 2^31, 2^32, 2^63 and 2^64 − 1, numbers that are not
/// integers, wrong JSON types, nesting deep enough to exhaust a recursive parser) and a valid file
/// truncated at every byte. Each is refused with a `FormatError` naming the file.
@Suite struct SafetensorsMalformedTests {
    let directory = NSTemporaryDirectory() + "st-malformed-\(UUID().uuidString)"

    static func file(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> Data {
        var bytes = Data()
        let json = Data(header.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(json)
        bytes.append(contentsOf: data)
        return bytes
    }

    /// A valid two-tensor file: "a" F32 [2] then "b" F16 [3].
    static let valid = file(
        header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[3],"data_offsets":[8,14]}}"#,
        data: Array(repeating: 0x3C, count: 14))

    func outcome(_ bytes: Data) -> String {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/variant.safetensors"
        #expect(FileManager.default.createFile(atPath: path, contents: bytes))
        do {
            _ = try SafetensorsFile(path: path).tensors()
            return "accepted"
        } catch {
            #expect(error.description.hasPrefix(path + ": "), "the error names the file: \(error)")
            return error.description
        }
    }

    @Test func theBaseFileIsValidAndEveryTruncationIsRefused() {
        #expect(outcome(Self.valid) == "accepted")
        for length in 0..<Self.valid.count {
            #expect(outcome(Self.valid.prefix(length)) != "accepted", "truncated to \(length) of \(Self.valid.count) bytes")
        }
    }

    /// (name, header, what the error must say); every header goes with 8 data bytes.
    static var variants: [(name: String, header: String, expected: String)] {
        let tensor = { (fields: String) in #"{"a":{"# + fields + "}}" }
        let good = #""dtype":"F32","shape":[2],"data_offsets":[0,8]"#
        var list: [(String, String, String)] = []
        // 2^31 and 2^32 are integers the data cannot hold; 2^63 and 2^64 − 1 are not integers of 64 bits.
        for (size, shapeError, offsetError) in [
            ("2147483648", "needs 8589934592 bytes", "outside"), ("4294967296", "needs 17179869184 bytes", "outside"),
            ("9223372036854775808", "not non-negative integers", "not non-negative integers"),
            ("18446744073709551615", "not non-negative integers", "not non-negative integers"),
        ] {
            list.append(("shape \(size)", tensor(#""dtype":"F32","shape":["# + size + #"],"data_offsets":[0,8]"#), shapeError))
            list.append(("offset \(size)", tensor(#""dtype":"F32","shape":[2],"data_offsets":[0,"# + size + "]"), offsetError))
        }
        list += [
            ("shape overflowing 64 bits", tensor(#""dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]"#), "overflows"),
            ("shape of 2^62 F32 wrapping to 0 bytes", tensor(#""dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8]"#), "overflows"),
            ("negative offset", tensor(#""dtype":"F32","shape":[2],"data_offsets":[-8,0]"#), "outside"),
            ("offsets reversed", tensor(#""dtype":"F32","shape":[0],"data_offsets":[8,0]"#), "outside"),
            ("fractional shape", tensor(#""dtype":"F32","shape":[2.5],"data_offsets":[0,8]"#), "not non-negative integers"),
            ("fractional offset", tensor(#""dtype":"F32","shape":[2],"data_offsets":[0,7.5]"#), "not non-negative integers"),
            ("exponent beyond Int", tensor(#""dtype":"F32","shape":[1e300],"data_offsets":[0,8]"#), "not non-negative integers"),
            ("shape as a string", tensor(#""dtype":"F32","shape":["2"],"data_offsets":[0,8]"#), "not non-negative integers"),
            ("shape with null", tensor(#""dtype":"F32","shape":[null],"data_offsets":[0,8]"#), "not non-negative integers"),
            ("nested shape", tensor(#""dtype":"F32","shape":[[2]],"data_offsets":[0,8]"#), "not non-negative integers"),
            ("shape not an array", tensor(#""dtype":"F32","shape":2,"data_offsets":[0,8]"#), "needs dtype, shape and two data_offsets"),
            ("one offset", tensor(#""dtype":"F32","shape":[2],"data_offsets":[8]"#), "needs dtype, shape and two data_offsets"),
            ("three offsets", tensor(#""dtype":"F32","shape":[2],"data_offsets":[0,4,8]"#), "needs dtype, shape and two data_offsets"),
            ("no dtype", tensor(#""shape":[2],"data_offsets":[0,8]"#), "needs dtype"),
            ("lower-case dtype", tensor(#""dtype":"f32","shape":[2],"data_offsets":[0,8]"#), "dtype f32"),
            ("F64 dtype", tensor(#""dtype":"F64","shape":[1],"data_offsets":[0,8]"#), "dtype F64"),
            ("empty dtype", tensor(#""dtype":"","shape":[2],"data_offsets":[0,8]"#), "has dtype ;"),
            ("numeric dtype", tensor(#""dtype":0,"shape":[2],"data_offsets":[0,8]"#), "needs dtype"),
            ("shape needing more bytes", tensor(#""dtype":"F32","shape":[3],"data_offsets":[0,8]"#), "needs 12 bytes"),
            ("shape needing fewer bytes", tensor(#""dtype":"F32","shape":[1],"data_offsets":[0,8]"#), "needs 4 bytes"),
            ("matrix of the wrong size", tensor(#""dtype":"F16","shape":[2,3],"data_offsets":[0,8]"#), "needs 12 bytes"),
            ("entry a string", #"{"a":"F32"}"#, "needs dtype"),
            ("entry an array", #"{"a":[0,8]}"#, "needs dtype"),
            ("entry null", #"{"a":null}"#, "needs dtype"),
            ("header an array", "[" + tensor(good) + "]", "not a JSON object"),
            ("header a string", #""a""#, "not a JSON object"),
            ("header a number", "8", "not a JSON object"),
            ("header empty", "", "not a JSON object"),
            ("NaN in the header", tensor(#""dtype":"F32","shape":[NaN],"data_offsets":[0,8]"#), "not a JSON object"),
            ("unterminated header", String(tensor(good).dropLast()), "not a JSON object"),
            ("nested 100,000 deep", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "not a JSON object"),
            ("metadata an array", #"{"__metadata__":["x"],"a":{"# + good + "}}", "__metadata__ is not an object"),
            ("metadata nested object", #"{"__metadata__":{"k":{"v":"w"}},"a":{"# + good + "}}", "is not a string"),
            ("repeated name", #"{"a":{"# + good + #"},"a":{"# + good + "}}", "more than once"),
        ]
        return list
    }

    @Test func eachVariantIsRefusedWithItsReason() {
        let variants = Self.variants
        #expect(variants.count >= 40)
        for (name, header, expected) in variants {
            let result = outcome(Self.file(header: header, data: Array(repeating: 0, count: 8)))
            #expect(result.contains(expected), "\(name): \(result)")
        }
    }

    @Test func headerLengthsBeyondTheFileAreRefused() {
        for length: UInt64 in [1 << 31, 1 << 32, 1 << 63, .max, UInt64(Self.valid.count - 7)] {
            var bytes = Self.valid
            bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })
            #expect(outcome(bytes).contains("runs past the end"), "header length \(length)")
        }
    }
}
