import Foundation

/// A JSON value that keeps its objects' keys in written order when parsed from text and written as
/// `text` (Foundation's coders do not: through Codable an object's keys come sorted), which a JSON
/// schema's `properties` need: the reply lists them in that order.
public indirect enum OrderedJSON: Codable, Equatable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([OrderedJSON]), object([(key: String, value: OrderedJSON)])

    public static func == (a: OrderedJSON, b: OrderedJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.map(\.key) == y.map(\.key) && x.map(\.value) == y.map(\.value)
        default: false
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let items = try? c.decode([OrderedJSON].self) {
            self = .array(items)
        } else {
            self = .object(try c.decode([String: OrderedJSON].self).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }

    /// Objects in the encoder's key order (Foundation's JSONEncoder does not keep insertion order;
    /// `text` does).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? try c.encode(Int64(n)) : try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let items): try c.encode(items)
        case .object(let members): try c.encode(Dictionary(members, uniquingKeysWith: { first, _ in first }))
        }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var offset: Int, expected: String
        public var description: String { "invalid JSON at byte \(offset): expected \(expected)" }
    }

    /// Parses `text`, one JSON value with nothing after it but whitespace.
    public init(parsing text: String) throws(ParseError) {
        var parser = Parser(bytes: Array(text.utf8))
        self = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == parser.bytes.count else { throw ParseError(offset: parser.at, expected: "the end of the text") }
    }

    /// The value under `key` of an object (the first, if written twice).
    public subscript(key: String) -> OrderedJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The value as compact JSON text (object keys in their order).
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : "\(n)"
        case .string(let s):
            let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
            return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { OrderedJSON.string($0.key).text + ":" + $0.value.text }.joined(separator: ",") + "}"
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func skipSpace() { while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 } }

        mutating func value(depth: Int) throws(ParseError) -> OrderedJSON {
            guard depth < 512 else { throw ParseError(offset: at, expected: "nesting under 512 levels") }
            skipSpace()
            guard at < bytes.count else { throw ParseError(offset: at, expected: "a value") }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var members: [(key: String, value: OrderedJSON)] = []
                skipSpace()
                if try take("}") { return .object(members) }
                repeat {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    guard try take(":") else { throw ParseError(offset: at, expected: "':'") }
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                } while try take(",")
                guard try take("}") else { throw ParseError(offset: at, expected: "',' or '}'") }
                return .object(members)
            case UInt8(ascii: "["):
                at += 1
                var items: [OrderedJSON] = []
                skipSpace()
                if try take("]") { return .array(items) }
                repeat {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                } while try take(",")
                guard try take("]") else { throw ParseError(offset: at, expected: "',' or ']'") }
                return .array(items)
            case UInt8(ascii: "\""): return .string(try string())
            default:
                for (word, value) in [("true", OrderedJSON.bool(true)), ("false", .bool(false)), ("null", .null)] where try take(word) {
                    return value
                }
                return try number()
            }
        }

        mutating func take(_ word: String) throws(ParseError) -> Bool {
            let w = Array(word.utf8)
            guard at + w.count <= bytes.count, Array(bytes[at..<at + w.count]) == w else { return false }
            at += w.count
            return true
        }

        mutating func string() throws(ParseError) -> String {
            let start = at
            guard try take("\"") else { throw ParseError(offset: at, expected: "a string") }
            while at < bytes.count, bytes[at] != UInt8(ascii: "\"") { at += bytes[at] == UInt8(ascii: "\\") ? 2 : 1 }
            guard at < bytes.count else { throw ParseError(offset: start, expected: "a closed string") }
            at += 1
            // Foundation decodes the escapes.
            guard let s = try? JSONDecoder().decode(String.self, from: Data(bytes[start..<at])) else {
                throw ParseError(offset: start, expected: "a string with valid escapes")
            }
            return s
        }

        mutating func number() throws(ParseError) -> OrderedJSON {
            let start = at
            let allowed = Set("+-0123456789.eE".utf8)
            while at < bytes.count, allowed.contains(bytes[at]) { at += 1 }
            guard at > start, let n = Double(String(decoding: bytes[start..<at], as: UTF8.self)) else {
                throw ParseError(offset: start, expected: "a value")
            }
            return .number(n)
        }
    }
}
