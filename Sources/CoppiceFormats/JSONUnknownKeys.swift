import Foundation

/// Keys of a JSON document that a `Decodable` type ignored: Foundation's decoder skips keys it does
/// not know, so a misspelt option ("sparsty") would silently fall back to its default. A key is
/// unknown when the value decoded from `input` and encoded again has no key at its path.
public enum JSONUnknownKeys {
    /// Dotted paths ("method.critrion", "stages[2].lr") of keys in `input` missing from `reencoded`;
    /// keys whose value is null are left out (an optional the encoder omits). Empty when either text
    /// is not JSON.
    public static func paths(in input: Data, reencoded: Data) -> [String] {
        guard let given = try? JSONSerialization.jsonObject(with: input), let known = try? JSONSerialization.jsonObject(with: reencoded)
        else { return [] }
        var found: [String] = []
        collect(given, known, path: "", into: &found)
        return found
    }

    /// The same for a value already decoded from `input` with `encoder`'s key strategy.
    public static func paths<T: Encodable>(in input: Data, decoded: T, encoder: JSONEncoder = JSONEncoder()) -> [String] {
        guard let reencoded = try? encoder.encode(decoded) else { return [] }
        return paths(in: input, reencoded: reencoded)
    }

    static func collect(_ given: Any, _ known: Any, path: String, into found: inout [String]) {
        if let object = given as? [String: Any], let knownObject = known as? [String: Any] {
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : path + "." + key
                guard let value = knownObject[key] else {
                    if !(object[key] is NSNull) { found.append(child) }
                    continue
                }
                collect(object[key]!, value, path: child, into: &found)
            }
        } else if let array = given as? [Any], let knownArray = known as? [Any] {
            for (index, (item, knownItem)) in zip(array, knownArray).enumerated() {
                collect(item, knownItem, path: path + "[\(index)]", into: &found)
            }
        }
    }
}
