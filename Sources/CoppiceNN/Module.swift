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
