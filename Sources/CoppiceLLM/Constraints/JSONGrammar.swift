/// Grammars for JSON replies, as OpenAI's `response_format` asks: any JSON object (`json_object`), or
/// the values a JSON schema allows (`json_schema`), in the subset llama.cpp's schema converter and
/// OpenAI's structured outputs cover — `type` (one or several), `properties`, `required`, `items`,
/// `minItems`/`maxItems`, `minLength`/`maxLength`, `enum`, `const`, `anyOf`/`oneOf`, `$ref` into
/// `$defs`/`definitions` (recursion included). Objects list their properties in the schema's order,
/// and no others; numbers have at most 16 digits in each part; whitespace between tokens is at most a
/// line break and 20 spaces or tabs, so a model cannot stall in it. A keyword that would restrict the
/// values further (`minimum`, `pattern`, `format`, `allOf`, …) is refused rather than ignored.
public struct JSONGrammar {
    public struct SchemaError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Keywords that only describe a schema.
    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "strict", "$defs", "definitions",
    ]
    static let supported: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength",
        "enum", "const", "anyOf", "oneOf", "$ref",
    ]

    private var grammar = ByteGrammar()
    /// The schema `$ref`s point into.
    private var root: OrderedJSON
    /// Tells apart the `$ref` rules of different roots.
    private var refPrefix = ""
    /// Rules made once and shared: JSON's pieces, and `$ref` targets.
    private var named: [String: Int] = [:]

    private init(root: OrderedJSON) { self.root = root }

    /// Any JSON object.
    public static func object() -> ByteGrammar {
        var builder = JSONGrammar(root: .object([]))
        let object = builder.anyObject()
        builder.grammar.root = builder.grammar.add([[object]])
        return builder.grammar
    }

    /// The values `schema` allows.
    public static func schema(_ schema: OrderedJSON) throws(SchemaError) -> ByteGrammar {
        var builder = JSONGrammar(root: schema)
        let value = try builder.value(schema, path: "#")
        builder.grammar.root = builder.grammar.add([[value]])
        return builder.grammar
    }

    /// A Llama 3.1 JSON tool call of one of `functions`, `{"name": NAME, "parameters": {…}}`, with each
    /// function's parameters held to its schema — or to any JSON object where that schema is outside
    /// the subset (the name is still one of the functions').
    public static func toolCall(_ functions: [(name: String, parameters: OrderedJSON?)]) -> ByteGrammar {
        var builder = JSONGrammar(root: .object([]))
        var calls: [[Symbol]] = []
        for (i, function) in functions.enumerated() {
            (builder.root, builder.refPrefix) = (function.parameters ?? .object([]), "\(i) ")
            let any = builder.anyObject()
            let parameters = function.parameters.flatMap { try? builder.value($0, path: "#") } ?? any
            let nameKey = Symbol.rule(builder.grammar.add([ByteGrammar.literal(#""name""#)]))
            let nameValue = Symbol.rule(builder.grammar.add([ByteGrammar.literal(OrderedJSON.string(function.name).text)]))
            let argumentsKey = Symbol.rule(builder.grammar.add([ByteGrammar.literal(#""parameters""#)]))
            let name = builder.member(key: nameKey, value: nameValue)
            let arguments = builder.member(key: argumentsKey, value: parameters)
            let space = builder.space()
            calls.append(ByteGrammar.literal("{") + [space, name] + ByteGrammar.literal(",") + [space, arguments] + ByteGrammar.literal("}"))
        }
        builder.grammar.root = builder.grammar.add(calls)
        return builder.grammar
    }

    private typealias Symbol = ByteGrammar.Symbol

    private mutating func value(_ schema: OrderedJSON, path: String) throws(SchemaError) -> Symbol {
        if case .bool(true) = schema { return anyValue() }
        guard case .object(let members) = schema else { throw SchemaError(description: "\(path): a schema is an object or true, got \(schema.text)") }
        for member in members where !Self.supported.contains(member.key) && !Self.annotations.contains(member.key) {
            throw SchemaError(description: "\(path): the JSON-schema keyword \"\(member.key)\" is not supported by constrained decoding")
        }
        if case .string(let reference) = schema["$ref"] { return try self.reference(reference, path: path) }
        if case .array(let values) = schema["enum"] {
            guard !values.isEmpty else { throw SchemaError(description: "\(path): enum is empty; no value can match") }
            return .rule(grammar.add(values.map { ByteGrammar.literal($0.text) }))
        }
        if let constant = schema["const"] { return .rule(grammar.add([ByteGrammar.literal(constant.text)])) }
        if case .array(let choices) = schema["anyOf"] ?? schema["oneOf"] {
            var alternatives: [[Symbol]] = []
            for (i, choice) in choices.enumerated() { alternatives.append([try value(choice, path: "\(path)/anyOf/\(i)")]) }
            guard !alternatives.isEmpty else { throw SchemaError(description: "\(path): anyOf is empty") }
            return .rule(grammar.add(alternatives))
        }
        var types: [String]
        switch schema["type"] {
        case .string(let type): types = [type]
        case .array(let list): types = list.compactMap { if case .string(let t) = $0 { t } else { nil } }
        case nil: types = schema["properties"] != nil ? ["object"] : schema["items"] != nil ? ["array"] : []
        default: throw SchemaError(description: "\(path): type must be a string or an array of strings")
        }
        if types.isEmpty { return anyValue() }
        var alternatives: [[Symbol]] = []
        for type in types { alternatives.append([try typed(type, schema, path: path)]) }
        return alternatives.count == 1 ? alternatives[0][0] : .rule(grammar.add(alternatives))
    }

    private mutating func typed(_ type: String, _ schema: OrderedJSON, path: String) throws(SchemaError) -> Symbol {
        switch type {
        case "object": return try object(schema, path: path)
        case "array":
            var item = anyValue()
            if let items = schema["items"] { item = try value(items, path: "\(path)/items") }
            let (min, max) = try bounds(schema, "minItems", "maxItems", path: path)
            return list("[", item, "]", min: min, max: max)
        case "string":
            let (min, max) = try bounds(schema, "minLength", "maxLength", path: path)
            return .rule(grammar.add([ByteGrammar.literal("\"") + [grammar.repeating(character(), min: min, max: max)] + ByteGrammar.literal("\"")]))
        case "integer": return integer()
        case "number": return number()
        case "boolean": return .rule(grammar.add([ByteGrammar.literal("true"), ByteGrammar.literal("false")]))
        case "null": return .rule(grammar.add([ByteGrammar.literal("null")]))
        default: throw SchemaError(description: "\(path): unknown type \"\(type)\"")
        }
    }

    /// An object with the schema's properties in order, each optional one present or not.
    private mutating func object(_ schema: OrderedJSON, path: String) throws(SchemaError) -> Symbol {
        guard case .object(let properties) = schema["properties"] ?? .object([]) else {
            throw SchemaError(description: "\(path): properties must be an object")
        }
        if properties.isEmpty {
            guard let extra = schema["additionalProperties"], extra != .bool(true) else { return anyObject() }
            if extra == .bool(false) { return .rule(grammar.add([ByteGrammar.literal("{") + [space(), .bytes(.init(0x7D...0x7D))]])) }
            let member = try self.member(key: string(), value: value(extra, path: "\(path)/additionalProperties"))
            return list("{", member, "}", min: 0, max: nil)
        }
        var required = Set<String>()
        if case .array(let names) = schema["required"] { for case .string(let name) in names { required.insert(name) } }
        if let missing = required.subtracting(properties.map(\.key)).sorted().first {
            throw SchemaError(description: "\(path): required names \"\(missing)\", which is not among the properties")
        }
        var members: [Symbol] = []
        for (name, property) in properties {
            members.append(
                member(
                    key: .rule(grammar.add([ByteGrammar.literal(OrderedJSON.string(name).text)])),
                    value: try value(property, path: "\(path)/properties/\(name)")))
        }
        // rest[i][first]: the members from i on, `first` when none came before (so no comma).
        var rest = [[Symbol]](repeating: [], count: properties.count + 1)
        let end = Symbol.rule(grammar.add([[]]))
        rest[properties.count] = [end, end]
        for i in stride(from: properties.count - 1, through: 0, by: -1) {
            for first in [false, true] {
                let present = (first ? [] : ByteGrammar.literal(",") + [space()]) + [members[i], rest[i + 1][0]]
                let alternatives = required.contains(properties[i].key) ? [present] : [present, [rest[i + 1][first ? 1 : 0]]]
                rest[i].append(.rule(grammar.add(alternatives)))
            }
        }
        return .rule(grammar.add([ByteGrammar.literal("{") + [space(), rest[0][1]] + ByteGrammar.literal("}")]))
    }

    private mutating func reference(_ reference: String, path: String) throws(SchemaError) -> Symbol {
        let parts = reference.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "#" else { throw SchemaError(description: "\(path): only local references (#/$defs/…) are supported, got \(reference)") }
        var target = root
        for part in parts.dropFirst() {
            guard let next = target[part] else { throw SchemaError(description: "\(path): \(reference) does not point into the schema") }
            target = next
        }
        let (id, isNew) = rule(named: "ref " + refPrefix + reference)
        if isNew { grammar.define(id, [[try value(target, path: reference)]]) }
        return .rule(id)
    }

    /// The id of the rule called `name`, and whether it is new (then the caller defines it, and its
    /// definition may refer to the id).
    private mutating func rule(named name: String) -> (id: Int, isNew: Bool) {
        if let id = named[name] { return (id, false) }
        let id = grammar.add([])
        named[name] = id
        return (id, true)
    }

    private func bounds(_ schema: OrderedJSON, _ minKey: String, _ maxKey: String, path: String) throws(SchemaError) -> (Int, Int?) {
        var min = 0, max: Int?
        if case .number(let n) = schema[minKey] { min = Int(n) }
        if case .number(let n) = schema[maxKey] { max = Int(n) }
        guard min >= 0, max.map({ $0 >= min && $0 <= 4096 }) ?? true, min <= 4096 else {
            throw SchemaError(
                description: "\(path): \(minKey)/\(maxKey) must satisfy 0 ≤ min ≤ max ≤ 4096, got \(min)/\(max.map(String.init) ?? "none")")
        }
        return (min, max)
    }

    // MARK: JSON's own pieces

    /// Whitespace: nothing, a space, or a line break with up to 20 spaces or tabs.
    private mutating func space() -> Symbol {
        let (id, isNew) = rule(named: "space")
        if isNew {
            let indent = grammar.repeating(.bytes(.init(0x20...0x20, 0x09...0x09)), min: 0, max: 20)
            grammar.define(id, [[], ByteGrammar.literal(" "), ByteGrammar.literal("\n") + [indent]])
        }
        return .rule(id)
    }

    /// `open` items separated by commas `close`, `min` to `max` of them.
    private mutating func list(_ open: String, _ item: Symbol, _ close: String, min: Int, max: Int?) -> Symbol {
        let space = space()
        let separated = Symbol.rule(grammar.add([ByteGrammar.literal(",") + [space, item, space]]))
        let more = grammar.repeating(separated, min: Swift.max(min - 1, 0), max: max.map { Swift.max($0 - 1, 0) })
        let some = [item, space, more]
        let body = max == 0 ? [[]] : min > 0 ? [some] : [[], some]
        return .rule(grammar.add(body.map { ByteGrammar.literal(open) + [space] + $0 + ByteGrammar.literal(close) }))
    }

    private mutating func member(key: Symbol, value: Symbol) -> Symbol {
        let space = space()
        return .rule(grammar.add([[key, space] + ByteGrammar.literal(":") + [space, value, space]]))
    }

    private mutating func anyValue() -> Symbol {
        let (id, isNew) = rule(named: "value")
        if isNew {
            let alternatives = [
                [anyObject()], [list("[", .rule(id), "]", min: 0, max: nil)], [string()], [number()],
                ByteGrammar.literal("true"), ByteGrammar.literal("false"), ByteGrammar.literal("null"),
            ]
            grammar.define(id, alternatives)
        }
        return .rule(id)
    }

    private mutating func anyObject() -> Symbol {
        let (id, isNew) = rule(named: "object")
        if isNew { grammar.define(id, [[list("{", member(key: string(), value: anyValue()), "}", min: 0, max: nil)]]) }
        return .rule(id)
    }

    private mutating func string() -> Symbol {
        let (id, isNew) = rule(named: "string")
        if isNew { grammar.define(id, [ByteGrammar.literal("\"") + [grammar.repeating(character(), min: 0, max: nil)] + ByteGrammar.literal("\"")]) }
        return .rule(id)
    }

    /// One character of a JSON string: printable ASCII but `"` and `\`, an escape, or a UTF-8 sequence
    /// (well-formed: no overlong forms, surrogates or code points past U+10FFFF).
    private mutating func character() -> Symbol {
        let (id, isNew) = rule(named: "character")
        guard isNew else { return .rule(id) }
        typealias B = ByteGrammar.ByteSet
        let tail = Symbol.bytes(B(0x80...0xBF))
        let hex = Symbol.bytes(B(0x30...0x39, 0x41...0x46, 0x61...0x66))
        grammar.define(
            id,
            [
                [.bytes(B(0x20...0x21, 0x23...0x5B, 0x5D...0x7E))],
                ByteGrammar.literal("\\") + [.bytes(.bytes("\"\\/bfnrt".utf8))],
                ByteGrammar.literal("\\u") + [hex, hex, hex, hex],
                [.bytes(B(0xC2...0xDF)), tail],
                [.bytes(B(0xE0...0xE0)), .bytes(B(0xA0...0xBF)), tail],
                [.bytes(B(0xE1...0xEC, 0xEE...0xEF)), tail, tail],
                [.bytes(B(0xED...0xED)), .bytes(B(0x80...0x9F)), tail],
                [.bytes(B(0xF0...0xF0)), .bytes(B(0x90...0xBF)), tail, tail],
                [.bytes(B(0xF1...0xF3)), tail, tail, tail],
                [.bytes(B(0xF4...0xF4)), .bytes(B(0x80...0x8F)), tail, tail],
            ])
        return .rule(id)
    }

    /// -?(0|[1-9][0-9]{0,15})
    private mutating func integer() -> Symbol {
        let (id, isNew) = rule(named: "integer")
        if isNew {
            let digits = grammar.repeating(.bytes(.init(0x30...0x39)), min: 0, max: 15)
            let magnitude = Symbol.rule(grammar.add([ByteGrammar.literal("0"), [.bytes(.init(0x31...0x39)), digits]]))
            grammar.define(id, [[magnitude], ByteGrammar.literal("-") + [magnitude]])
        }
        return .rule(id)
    }

    /// An integer, then optionally a fraction of 1–16 digits and an exponent of 1–3 digits.
    private mutating func number() -> Symbol {
        let (id, isNew) = rule(named: "number")
        if isNew {
            let digit = Symbol.bytes(.init(0x30...0x39))
            let fraction = grammar.add([[], ByteGrammar.literal(".") + [grammar.repeating(digit, min: 1, max: 16)]])
            let sign = grammar.add([[], ByteGrammar.literal("-"), ByteGrammar.literal("+")])
            let exponent = grammar.add([[], [.bytes(.bytes("eE".utf8)), .rule(sign), grammar.repeating(digit, min: 1, max: 3)]])
            grammar.define(id, [[integer(), .rule(fraction), .rule(exponent)]])
        }
        return .rule(id)
    }
}
