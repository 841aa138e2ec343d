import CoppiceTensor

/// Walks a module tree; collects what each module lists under dotted names.
public struct ParameterVisitor {
    public enum Kind: Sendable { case parameter, buffer }
    private var prefix: String
    private let onParameter: (String, Parameter, Kind) -> Void
    private let onModule: (String, Module) -> Void

    public init(onParameter: @escaping (String, Parameter, Kind) -> Void, onModule: @escaping (String, Module) -> Void = { _, _ in }) {
        self.prefix = ""
        self.onParameter = onParameter
        self.onModule = onModule
    }

    public mutating func parameter(_ name: String, _ parameter: Parameter) {
        onParameter(prefix + name, parameter, .parameter)
    }

    public mutating func buffer(_ name: String, _ buffer: Parameter) {
        onParameter(prefix + name, buffer, .buffer)
    }

    public mutating func module(_ name: String, _ module: Module) {
        let saved = prefix
        prefix = prefix + name + "."
        onModule(String(prefix.dropLast()), module)
        module.visit(&self)
        prefix = saved
    }
}
