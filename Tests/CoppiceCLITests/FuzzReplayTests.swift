import CoppiceFuzzTargets
import Foundation
import Testing

/// What fuzzing found stays fixed: every file under `FuzzRegressions/<target>/` (inputs that once
/// crashed a reader, stored by `scripts/fuzz.sh`) and every target's seeds run through the target
/// here, without the sanitizer. A crash fails the suite by ending it.
@Suite struct FuzzReplayTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions").path

    @Test(arguments: FuzzTarget.all.map(\.name))
    func seedsAndStoredCrashesRunThroughTheTarget(name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let seeds = try target.seeds()
        #expect(!seeds.isEmpty, "every target has seeds")
        for (index, seed) in seeds.enumerated() {
            // The chat target's "acceptance" is a Llama Guard verdict, which tool-call seeds are not.
            let accepted = target(seed)
            #expect(accepted || name == "chat", "seed \(index) is accepted")
        }
        let directory = Self.regressions + "/" + name
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for file in stored.sorted() { target(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))) }
    }

    @Test func everyRegressionFolderNamesATarget() throws {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: Self.regressions)) ?? []
        for folder in folders where folder != "README.md" { #expect(FuzzTarget.named(folder) != nil, "\(folder)") }
    }
}
