extension GGUFTensorType {
    /// llama.cpp's name for the type (`f32`, `f16`, `bf16`, `q8_0`, `q4_0`), as its tools spell it.
    public var name: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .q8_0: "q8_0"
        case .q4_0: "q4_0"
        }
    }

    /// The type llama.cpp calls `name`.
    public init?(name: String) {
        guard let type = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = type
    }
}
