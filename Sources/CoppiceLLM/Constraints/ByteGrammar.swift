/// A context-free grammar over bytes, the form constrained decoding needs (as llama.cpp's GBNF): each
/// rule is a list of alternatives, each a sequence of byte sets and references to other rules. The
/// language of `root` is what a constrained reply may be. Rules must not be left-recursive (a rule may
/// not reach itself without consuming a byte); the JSON grammars built here never are.
public struct ByteGrammar: Sendable {
    /// A set of bytes as a 256-bit map.
    public struct ByteSet: Hashable, Sendable {
        private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        public init(_ ranges: ClosedRange<UInt8>...) { for range in ranges { insert(range) } }

        public static func bytes(_ bytes: some Sequence<UInt8>) -> ByteSet {
            var set = ByteSet()
            for byte in bytes { set.insert(byte...byte) }
            return set
        }

        /// Every byte not in `self`.
        public var inverted: ByteSet {
            var set = self
            set.words = (~words.0, ~words.1, ~words.2, ~words.3)
            return set
        }

        public mutating func insert(_ range: ClosedRange<UInt8>) {
            for byte in range {
                let bit = UInt64(1) << UInt64(byte & 63)
                switch byte >> 6 {
                case 0: words.0 |= bit
                case 1: words.1 |= bit
                case 2: words.2 |= bit
                default: words.3 |= bit
                }
            }
        }

        public func contains(_ byte: UInt8) -> Bool {
            let word =
                switch byte >> 6 {
                case 0: words.0
                case 1: words.1
                case 2: words.2
                default: words.3
                }
            return word >> UInt64(byte & 63) & 1 == 1
        }

        public static func == (a: ByteSet, b: ByteSet) -> Bool { a.words == b.words }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    public enum Symbol: Hashable, Sendable {
        case bytes(ByteSet)
        case rule(Int)
    }

    /// By rule id: its alternatives, each a sequence of symbols (an empty one matches nothing).
    public private(set) var rules: [[[Symbol]]] = []
    public var root = 0

    public init() {}

    /// A new rule with `alternatives`; returns its id.
    @discardableResult
    public mutating func add(_ alternatives: [[Symbol]]) -> Int {
        rules.append(alternatives)
        return rules.count - 1
    }

    /// Gives rule `id` (made empty by `add([])`, so that its alternatives may refer to it) its alternatives.
    public mutating func define(_ id: Int, _ alternatives: [[Symbol]]) { rules[id] = alternatives }

    /// The symbols that match `text` exactly.
    public static func literal(_ text: String) -> [Symbol] { text.utf8.map { .bytes(ByteSet($0...$0)) } }

    /// A rule matching `symbol` `min` to `max` times (nil: unbounded).
    public mutating func repeating(_ symbol: Symbol, min: Int, max: Int?) -> Symbol {
        // Past the minimum, each optional repetition nests the next: rest ::= "" | symbol rest.
        var tail: Symbol
        if let max {
            tail = .rule(add([[]]))
            for _ in 0..<(max - min) { tail = .rule(add([[], [symbol, tail]])) }
        } else {
            let id = add([])
            rules[id] = [[], [symbol, .rule(id)]]
            tail = .rule(id)
        }
        return .rule(add([Array(repeating: symbol, count: min) + [tail]]))
    }
}
