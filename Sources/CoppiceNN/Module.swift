import CoppiceTensor

/// A part of a network that owns parameters and submodules and lists them explicitly.
///
/// Names are stable dotted paths (`features.0.weight`) built from the names given to the visitor;
/// they are the keys of state dicts and checkpoints.
public protocol Module: AnyObject {
    /// Lists this module's parameters, buffers and submodules, each under its name.
    func visit(_ visitor: inout ParameterVisitor)
}

/// A module with a single tensor input and output.
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// A module whose behaviour differs between training and evaluation (dropout, batch norm).
public protocol TrainingModeAware: AnyObject {
    var isTraining: Bool { get set }
}

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

/// Errors from loading state into a module.
public enum ModuleError: Error, Equatable, CustomStringConvertible {
    case missingKey(String)
    case unexpectedKey(String)
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingKey(let key): "state dict has no entry for '\(key)'"
        case .unexpectedKey(let key): "state dict entry '\(key)' matches no parameter or buffer of the module"
        case .shapeMismatch(let key, let expected, let found): "'\(key)': expected shape \(expected), found \(found)"
        }
    }
}

extension Module {
    /// Parameters and buffers under their dotted names, in visiting order.
    public func namedParameters(includingBuffers: Bool = false) -> [(name: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        var visitor = ParameterVisitor { name, parameter, kind in
            if kind == .parameter || includingBuffers { result.append((name, parameter)) }
        }
        visit(&visitor)
        return result
    }

    /// The trainable parameters.
    public func parameters() -> [Parameter] {
        namedParameters().map(\.parameter).filter(\.isTrainable)
    }

    public func parameterCount() -> Int { parameters().reduce(0) { $0 + $1.tensor.count } }

    /// Every parameter and buffer's value by name.
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters(includingBuffers: true).map { ($0.name, $0.parameter.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Replaces values from a state dict; with `strict`, missing and unexpected keys are errors.
    /// Nothing is changed unless every entry fits.
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws(ModuleError) {
        let named = namedParameters(includingBuffers: true)
        let known = Set(named.map(\.name))
        if strict, let extra = stateDict.keys.sorted().first(where: { !known.contains($0) }) { throw .unexpectedKey(extra) }
        for (name, parameter) in named {
            guard let value = stateDict[name] else {
                if strict { throw .missingKey(name) }
                continue
            }
            guard value.shape == parameter.shape else { throw .shapeMismatch(key: name, expected: parameter.shape, found: value.shape) }
        }
        for (name, parameter) in named { if let value = stateDict[name] { parameter.value = value } }
    }

    /// Switches this module and all submodules to training or evaluation behaviour.
    public func setTraining(_ training: Bool) {
        (self as? TrainingModeAware)?.isTraining = training
        var visitor = ParameterVisitor(
            onParameter: { _, _, _ in },
            onModule: { _, module in
                (module as? TrainingModeAware)?.isTraining = training
            })
        visit(&visitor)
    }

    public func zeroGrad() { for parameter in parameters() { parameter.zeroGrad() } }
}
