import Foundation
import Testing

/// Every `coppice …` command in the README and docs still parses (`scripts/check-docs.py`, with the
/// binary these tests run), and the check fails, naming the line, when one does not.
@Suite struct DocumentedCommandsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func check(_ files: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.root + "/scripts/check-docs.py", "--binary", CommandLineTests.binary] + files
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func everyDocumentedCommandParses() throws {
        let result = try check([])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("documented commands parse, 0 do not"))
    }

    @Test func aBrokenCommandInTheDocsFailsTheCheck() throws {
        let path = NSTemporaryDirectory() + "docs-\(UUID().uuidString).md"
        let text = """
            Train:

            ```sh
            coppice train --model lenet5 --epochs 1 \\
                --schedule cosine
            ```

            Then `coppice eval RUN --batch-size 32`, or `coppice report` for the speed. A diagram is no command:

            ```mermaid
            coppice --> CoppiceBench
            ```
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try check([path])
        #expect(result.status == 1)
        #expect(result.output.contains("2 documented commands parse, 1 do not"), "\(result.output)")
        #expect(result.output.contains(":4: coppice train --model lenet5 --epochs 1 --schedule cosine"), "\(result.output)")
        #expect(result.output.contains("Unknown option '--schedule'"), "\(result.output)")
    }
}
