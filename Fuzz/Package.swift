// swift-tools-version:6.0
// libFuzzer driver for Coppice's readers of outside bytes (Sources/CoppiceFuzzTargets). Outside the
// main package because it is built with sanitizers: run it through scripts/fuzz.sh, which builds with
//   swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
import PackageDescription

let package = Package(
    name: "CoppiceFuzz",
    dependencies: [.package(name: "Coppice", path: "..")],
    targets: [
        .executableTarget(name: "coppice-fuzz", dependencies: [.product(name: "CoppiceFuzzTargets", package: "Coppice")])
    ],
    swiftLanguageModes: [.v6]
)
