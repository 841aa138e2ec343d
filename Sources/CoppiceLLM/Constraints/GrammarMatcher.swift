/// Where a reply stands in a `ByteGrammar`, byte by byte, as llama.cpp's grammar stacks: every way
/// the bytes so far can be read is a stack of positions in rules, its top at the byte set the next byte
/// must be in. A byte no stack accepts is refused; an empty stack means the bytes are a whole sentence.
public struct GrammarMatcher: Sendable {
    struct Position: Hashable, Sendable {
        var rule: Int32, alternative: Int32, index: Int32
    }
    typealias Stack = [Position]

    public let grammar: ByteGrammar
    private(set) var stacks: [Stack] = []

    public init(grammar: ByteGrammar) {
        self.grammar = grammar
        let root = Int32(grammar.root)
        for alternative in grammar.rules[grammar.root].indices {
            expand([Position(rule: root, alternative: Int32(alternative), index: 0)], into: &stacks)
        }
        stacks = Self.unique(stacks)
    }

    /// The bytes so far form a whole sentence of the grammar.
    public var isComplete: Bool { stacks.contains { $0.isEmpty } }
    /// Some byte may still follow.
    public var canContinue: Bool { stacks.contains { !$0.isEmpty } }

    /// The matcher after `byte`, or nil when no reading of the bytes so far allows it.
    public func advanced(by byte: UInt8) -> GrammarMatcher? {
        var next: [Stack] = []
        for stack in stacks {
            guard let top = stack.last, case .bytes(let set) = symbol(at: top), set.contains(byte) else { continue }
            var moved = stack
            moved[moved.count - 1].index += 1
            expand(moved, into: &next)
        }
        guard !next.isEmpty else { return nil }
        var matcher = self
        matcher.stacks = Self.unique(next)
        return matcher
    }

    /// The matcher after `bytes`, or nil when they leave the grammar's language.
    public func advanced(by bytes: some Sequence<UInt8>) -> GrammarMatcher? {
        var matcher = self
        for byte in bytes {
            guard let next = matcher.advanced(by: byte) else { return nil }
            matcher = next
        }
        return matcher
    }

    /// Whether `text` is a whole sentence of the grammar.
    public func matches(_ text: String) -> Bool { advanced(by: text.utf8)?.isComplete ?? false }

    private func symbol(at position: Position) -> ByteGrammar.Symbol {
        grammar.rules[Int(position.rule)][Int(position.alternative)][Int(position.index)]
    }

    /// Appends the stacks `stack` stands for with a byte set (or nothing) on top: finished sequences are
    /// popped, and a rule reference is replaced by each of the rule's alternatives.
    private func expand(_ stack: Stack, into out: inout [Stack]) {
        var stack = stack
        while let top = stack.last {
            let sequence = grammar.rules[Int(top.rule)][Int(top.alternative)]
            guard Int(top.index) < sequence.count else {
                stack.removeLast()
                continue
            }
            guard case .rule(let rule) = sequence[Int(top.index)] else { break }
            // Step past the reference first, and drop the position if that ends its sequence, so that
            // right recursion (repetition) does not grow the stack.
            stack[stack.count - 1].index += 1
            if Int(top.index) + 1 == sequence.count { stack.removeLast() }
            for alternative in grammar.rules[rule].indices {
                expand(stack + [Position(rule: Int32(rule), alternative: Int32(alternative), index: 0)], into: &out)
            }
            return
        }
        out.append(stack)
    }

    private static func unique(_ stacks: [Stack]) -> [Stack] {
        var seen = Set<Stack>()
        return stacks.filter { seen.insert($0).inserted }
    }
}
