import Foundation

/// The keys of a JSON object in the order they are written, duplicates kept. Foundation's parser keeps
/// one value per repeated key without saying so; formats whose keys must be unique (safetensors) check
/// with this. The text must already have parsed as JSON.
enum JSONObjectKeys {
    /// The top-level object's keys, decoded; nil when the text is not an object.
    static func topLevel(of json: Data) -> [String]? {
        let bytes = [UInt8](json)
        var keys: [String] = []
        var depth = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < bytes.count else { return nil }
                if depth == 1, nextNonSpace(in: bytes, after: index) == UInt8(ascii: ":") {
                    let literal = Data(bytes[start...index])
                    guard let key = try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed) as? String else { return nil }
                    keys.append(key)
                }
            default:
                if depth == 0, !isSpace(byte) { return nil }
            }
            index += 1
        }
        return keys
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private static func nextNonSpace(in bytes: [UInt8], after index: Int) -> UInt8? {
        var next = index + 1
        while next < bytes.count, isSpace(bytes[next]) { next += 1 }
        return next < bytes.count ? bytes[next] : nil
    }
}
