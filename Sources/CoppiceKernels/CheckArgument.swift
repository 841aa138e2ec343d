/// Stops on a programmer error (a shape or argument that violates an op's contract), printing the
/// message in every build configuration: `precondition` drops its message under `-O`, and a shape
/// error without both shapes named is hard to act on. Input that comes from files or the command line
/// is validated before it reaches these checks and throws instead.
@inline(__always)
public func checkArgument(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if _slowPath(!condition()) { argumentFailure(message(), file: file, line: line) }
}

@inline(never)
func argumentFailure(_ message: String, file: StaticString, line: UInt) -> Never {
    fatalError(message, file: file, line: line)
}
