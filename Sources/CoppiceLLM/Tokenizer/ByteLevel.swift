/// GPT-2's reversible map from bytes to printable characters (`bytes_to_unicode`), used by byte-level
/// BPE vocabularies (Hugging Face tokenizer.json, llama.cpp's gpt2 vocabularies): printable Latin-1
/// bytes map to themselves, the other 68 to U+0100 onwards (space → "Ġ", newline → "Ċ").
enum ByteLevel {
    static let characters: [Character] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var map = [Character](repeating: " ", count: 256), extra = 0
        for b in 0..<256 {
            if printable.contains(b) {
                map[b] = Character(UnicodeScalar(b)!)
            } else {
                map[b] = Character(UnicodeScalar(256 + extra)!)
                extra += 1
            }
        }
        return map
    }()

    static let bytes: [Character: UInt8] = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, UInt8($0)) })

    static func text(_ bytes: [UInt8]) -> String { String(bytes.map { characters[Int($0)] }) }

    /// The bytes of a byte-level string; nil if a character is outside the map.
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for c in text {
            guard let b = bytes[c] else { return nil }
            out.append(b)
        }
        return out
    }
}
