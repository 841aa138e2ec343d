/// The byte-pair merge loop of every BPE here (tiktoken ranks, tokenizer.json merges, GGUF merge
/// lists): repeatedly join the adjacent pair of lowest rank (`rank` nil: not a merge) until no pair
/// merges or `minimumParts` remain.
func bytePairMerge<Part: RangeReplaceableCollection>(
    _ parts: [Part], stoppingAt minimumParts: Int = 1,
    rank: (Part, Part) -> Int?
) -> [Part] {
    var parts = parts
    while parts.count > minimumParts {
        var best = Int.max, at = -1
        for i in 0..<(parts.count - 1) {
            if let r = rank(parts[i], parts[i + 1]), r < best { (best, at) = (r, i) }
        }
        if at < 0 { break }
        parts[at] += parts[at + 1]
        parts.remove(at: at + 1)
    }
    return parts
}
