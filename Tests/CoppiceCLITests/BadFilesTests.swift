import Foundation
import Testing

/// Every command that opens a file from outside, given a malformed one: exit status 1, one line on
/// stderr naming the file and what was wrong, and no output file left behind.
@Suite struct BadFilesTests {
    let cli = CommandLineTests()

    @Test func malformedFilesEndEachCommandWithOneLineAndNothingWritten() throws {
        let data = try cli.syntheticIDXDirectory()
        let bad = data + "/bad"
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        func write(_ name: String, _ bytes: [UInt8]) -> String {
            let path = bad + "/" + name
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            return path
        }
        let safetensors = write("bad.safetensors", [16, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"a":{"dtype":"#.utf8))
        let gguf = write("bad.gguf", Array("GGUF".utf8) + [3, 0, 0, 0])
        let recipe = write("bad.json", Array(#"{"method":{"criterion":"magnitude"},"sparsty":0.9}"#.utf8))
        let criteo = write("bad.tsv", Array("1\t2\n0\t3\n".utf8))
        let idx = bad + "/idx"
        try FileManager.default.createDirectory(atPath: idx, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            _ = write("idx/" + name, [0, 0, 8, 3, 0, 0])
        }
        let cases: [(arguments: [String], names: String, output: String?)] = [
            (["convert", safetensors, bad + "/out.safetensors"], safetensors, bad + "/out.safetensors"),
            (["eval", safetensors], safetensors, nil),
            (["convert-llama", gguf, bad + "/out.gguf"], gguf, bad + "/out.gguf"),
            (["train", "--dataset", "mnist", "--data-dir", idx, "--epochs", "1", "--output", bad + "/run"], "train-images-idx3-ubyte.gz", nil),
            (
                ["prune", "--dataset", "mnist", "--data-dir", data, "--epochs", "1", "--recipe", recipe, "--output", bad + "/pruned"], recipe,
                bad + "/pruned/model.safetensors"
            ),
            (["spatial-winograd", "--recipe", recipe], recipe, nil),
            (["train", "dlrm", "--dataset", "criteo-kaggle", "--raw-data-file", criteo], criteo, criteo + ".cpcache"),
        ]
        for (arguments, names, output) in cases {
            let result = try cli.run(arguments)
            let lines = result.error.split(separator: "\n").filter { !$0.hasPrefix("coppice: ") }
            #expect(result.status == 1, "\(arguments): status \(result.status)")
            #expect(lines.count == 1 && lines[0].hasPrefix("Error: ") && lines[0].contains(names), "\(arguments): \(result.error)")
            if let output { #expect(!FileManager.default.fileExists(atPath: output), "\(arguments) left \(output)") }
        }
    }
}
