import CoppiceFuzzTargets
import Foundation

// `coppice-fuzz TARGET [libFuzzer flags and corpus directories]` fuzzes one target of
// CoppiceFuzzTargets; `coppice-fuzz TARGET --write-seeds DIRECTORY` writes its seeds there.
// libFuzzer's own main is not used: its driver is called with the target's name taken off argv.

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

nonisolated(unsafe) var selected: FuzzTarget?

var arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTarget.named(arguments[1]) else {
    let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
    let described = FuzzTarget.all.map { "  \($0.name): \($0.reads)\n" }.joined()
    FileHandle.standardError.write(Data("usage: coppice-fuzz TARGET [libFuzzer flags] [corpus...]; targets: \(names)\n\(described)".utf8))
    exit(2)
}
if arguments.count == 4, arguments[2] == "--write-seeds" {
    for (index, seed) in try target.seeds().enumerated() {
        try seed.write(to: URL(fileURLWithPath: arguments[3] + "/seed-\(index)"))
    }
    exit(0)
}
selected = target
arguments.remove(at: 1)
var argc = CInt(arguments.count)
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = UnsafeMutablePointer.allocate(capacity: arguments.count + 1)
for (index, argument) in arguments.enumerated() { argv![index] = strdup(argument) }
argv![arguments.count] = nil
exit(
    runDriver(&argc, &argv) { data, count in
        selected!(count == 0 ? Data() : Data(bytes: data!, count: count))
        return 0
    })
