import CoppiceSparsity
import Foundation
import Testing

/// Pruning recipes from strangers: a corpus of JSON documents that break one rule each (wrong types,
/// unknown or misspelt keys, sparsities outside [0, 1], impossible schedules and granularities). Each
/// is refused with an `invalidRecipe`, `invalidAmount` or `invalidGranularity` error that says what
/// was wrong, and the valid recipe they start from loads.
@Suite struct RecipeMalformedTests {
    static let method = #""method":{"criterion":"magnitude","granularity":{"element":{}},"norm":1,"seed":0}"#
    static let schedule = #""schedule":{"oneShot":{"sparsity":0.5,"step":0}}"#
    static let rest = #""parameters":["*.weight"],"scope":"layer""#

    static func recipe(method: String = method, schedule: String = schedule, rest: String = rest) -> String {
        "{" + [method, schedule, rest].filter { !$0.isEmpty }.joined(separator: ",") + "}"
    }

    static let variants: [(name: String, json: String, expected: String)] = [
        ("not JSON", "recipe", "invalid recipe"),
        ("an array", "[" + recipe() + "]", "invalid recipe"),
        ("empty object", "{}", "invalid recipe"),
        ("no method", recipe(method: ""), "invalid recipe"),
        ("no schedule", recipe(schedule: ""), "invalid recipe"),
        ("misspelt top-level key", recipe(rest: #""parameters":["*.weight"],"scope":"layer","sparsty":0.9"#), "unknown key(s) sparsty"),
        (
            "misspelt method key",
            recipe(method: #""method":{"criterion":"magnitude","granularity":{"element":{}},"norm":1,"seed":0,"critrion":"taylor"}"#),
            "unknown key(s) method.critrion"
        ),
        (
            "unknown schedule payload key", recipe(schedule: #""schedule":{"oneShot":{"sparsity":0.5,"step":0,"every":2}}"#),
            "unknown key(s) schedule.oneShot.every"
        ),
        ("unknown criterion", recipe(method: #""method":{"criterion":"wanda","granularity":{"element":{}},"norm":1,"seed":0}"#), "invalid recipe"),
        ("unknown schedule kind", recipe(schedule: #""schedule":{"cubic":{"sparsity":0.5}}"#), "invalid recipe"),
        ("unknown scope", recipe(rest: #""parameters":["*.weight"],"scope":"model""#), "invalid recipe"),
        ("sparsity as a string", recipe(schedule: #""schedule":{"oneShot":{"sparsity":"0.5","step":0}}"#), "invalid recipe"),
        ("sparsity 1.5", recipe(schedule: #""schedule":{"oneShot":{"sparsity":1.5,"step":0}}"#), "sparsity must be in [0, 1]"),
        ("sparsity -0.1", recipe(schedule: #""schedule":{"constant":{"sparsity":-0.1,"frequency":1}}"#), "sparsity must be in [0, 1]"),
        ("sparsity 1e999", recipe(schedule: #""schedule":{"oneShot":{"sparsity":1e999,"step":0}}"#), "invalid recipe"),
        ("negative step", recipe(schedule: #""schedule":{"oneShot":{"sparsity":0.5,"step":-1}}"#), "step must be 0 or more"),
        ("step past Int", recipe(schedule: #""schedule":{"oneShot":{"sparsity":0.5,"step":9223372036854775808}}"#), "invalid recipe"),
        ("fractional step", recipe(schedule: #""schedule":{"oneShot":{"sparsity":0.5,"step":1.5}}"#), "invalid recipe"),
        ("constant frequency 0", recipe(schedule: #""schedule":{"constant":{"sparsity":0.5,"frequency":0}}"#), "positive frequency"),
        (
            "iterative with 0 stages", recipe(schedule: #""schedule":{"iterative":{"sparsity":0.5,"start":0,"stages":0,"frequency":1}}"#),
            "positive stages"
        ),
        (
            "gradual ending before it starts",
            recipe(schedule: #""schedule":{"gradual":{"initial":0,"final":0.5,"start":10,"end":5,"frequency":1}}"#), "start ≤ end"
        ),
        (
            "gradual final 2", recipe(schedule: #""schedule":{"gradual":{"initial":0,"final":2,"start":0,"end":5,"frequency":1}}"#),
            "sparsity must be in [0, 1]"
        ),
        ("custom with no steps", recipe(schedule: #""schedule":{"custom":{"_0":[]}}"#), "no steps"),
        (
            "custom steps out of order", recipe(schedule: #""schedule":{"custom":{"_0":[{"step":5,"sparsity":0.3},{"step":2,"sparsity":0.5}]}}"#),
            "increasing"
        ),
        ("no parameter patterns", recipe(rest: #""parameters":[],"scope":"layer""#), "no parameter patterns"),
        ("an empty pattern", recipe(rest: #""parameters":[""],"scope":"layer""#), "no parameter patterns"),
        ("norm 0", recipe(method: #""method":{"criterion":"magnitude","granularity":{"element":{}},"norm":0,"seed":0}"#), "norm must be positive"),
        ("negative seed", recipe(method: #""method":{"criterion":"magnitude","granularity":{"element":{}},"norm":1,"seed":-1}"#), "invalid recipe"),
        (
            "blocks of 0 rows",
            recipe(method: #""method":{"criterion":"magnitude","granularity":{"blocks":{"rows":0,"columns":4}},"norm":1,"seed":0}"#),
            "blocks must be positive"
        ),
        ("4:2", recipe(method: #""method":{"criterion":"magnitude","granularity":{"nOfM":{"n":4,"m":2}},"norm":1,"seed":0}"#), "0 < N < M"),
        (
            "negative slice axis", recipe(method: #""method":{"criterion":"magnitude","granularity":{"slices":{"axis":-1}},"norm":1,"seed":0}"#),
            "axis must be 0 or more"
        ),
        (
            "global random",
            recipe(
                method: #""method":{"criterion":"random","granularity":{"element":{}},"norm":1,"seed":0}"#,
                rest: #""parameters":["*.weight"],"scope":"global""#), "global scope"
        ),
    ]

    @Test func theBaseRecipeLoads() throws {
        let recipe = try PruningRecipe.decode(Data(Self.recipe().utf8))
        #expect(recipe == PruningRecipe(method: PruningMethod(), schedule: .oneShot(sparsity: 0.5, step: 0)))
        #expect(try PruningRecipe.decode(recipe.encoded()) == recipe)
    }

    @Test func eachVariantIsRefusedWithItsReason() {
        #expect(Self.variants.count >= 20)
        for (name, json, expected) in Self.variants {
            do {
                _ = try PruningRecipe.decode(Data(json.utf8), source: "r.json")
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.description.contains(expected), "\(name): \(error)")
            }
        }
    }
}
