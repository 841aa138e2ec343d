// swift-tools-version:6.0
// `swift build -c release` needs no flags: the C kernels and the GEMM backend are chosen at run time from
// CPUID (CCPUDispatch, CQuantizedDot). The kernels still in Swift SIMD gain from a CPU target
// (-Xswiftc -target-cpu -Xswiftc haswell|native; README, Release builds); it is not in this manifest
// because `unsafeFlags` would make the package unusable as a dependency.
import PackageDescription

let package = Package(
    name: "Coppice",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CoppiceKernels", targets: ["CoppiceKernels"]),
        .library(name: "CoppiceTensor", targets: ["CoppiceTensor"]),
        .library(name: "CoppiceNN", targets: ["CoppiceNN"]),
        .library(name: "CoppiceOptimizers", targets: ["CoppiceOptimizers"]),
        .library(name: "CoppiceData", targets: ["CoppiceData"]),
        .library(name: "CoppiceFormats", targets: ["CoppiceFormats"]),
        .library(name: "CoppiceVision", targets: ["CoppiceVision"]),
        .library(name: "CoppiceRec", targets: ["CoppiceRec"]),
        .library(name: "CoppiceLLM", targets: ["CoppiceLLM"]),
        .library(name: "CoppiceDistributed", targets: ["CoppiceDistributed"]),
        .library(name: "CoppiceRuns", targets: ["CoppiceRuns"]),
        .library(name: "CoppiceSparsity", targets: ["CoppiceSparsity"]),
        .library(name: "CoppiceBench", targets: ["CoppiceBench"]),
        .library(name: "CoppiceFuzzTargets", targets: ["CoppiceFuzzTargets"]),
        .library(name: "CoppiceServe", targets: ["CoppiceServe"]),
        .executable(name: "coppice", targets: ["coppice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CCBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CQuantizedDot", dependencies: ["CCPUDispatch"]),
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "CoppiceDistributed", dependencies: ["CMPI", "CoppiceNN"], exclude: ["README.md"]),
        .target(name: "CCPUDispatch", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(
            name: "CoppiceKernels",
            dependencies: ["CQuantizedDot", "CCPUDispatch", .target(name: "CCBLAS", condition: .when(platforms: [.linux]))], exclude: ["README.md"]),
        .target(name: "CoppiceTensor", dependencies: ["CoppiceKernels"], exclude: ["README.md"]),
        .target(name: "CoppiceNN", dependencies: ["CoppiceTensor"], exclude: ["README.md"]),
        .target(name: "CoppiceOptimizers", dependencies: ["CoppiceNN"], exclude: ["README.md"]),
        .target(name: "CoppiceData", dependencies: ["CoppiceTensor", "CoppiceFormats", "CZlib"], exclude: ["README.md"]),
        .target(name: "CoppiceFormats", dependencies: ["CoppiceTensor"], exclude: ["README.md"]),
        .target(name: "CoppiceSparsity", dependencies: ["CoppiceNN", "CoppiceFormats"], exclude: ["README.md"]),
        .target(name: "CoppiceRuns", exclude: ["README.md"]),
        .target(
            name: "CoppiceVision", dependencies: ["CoppiceOptimizers", "CoppiceData", "CoppiceSparsity", "CoppiceRuns", "CoppiceDistributed"],
            exclude: ["README.md"]),
        .target(
            name: "CoppiceRec", dependencies: ["CoppiceOptimizers", "CoppiceData", "CoppiceSparsity", "CoppiceRuns", "CoppiceDistributed"],
            exclude: ["README.md"]),
        .target(
            name: "CoppiceLLM", dependencies: ["CoppiceOptimizers", "CoppiceFormats", "CoppiceSparsity", "CoppiceDistributed"], exclude: ["README.md"]
        ),
        .target(name: "CoppiceBench", dependencies: ["CoppiceOptimizers", "CoppiceRec", "CoppiceLLM", "CoppiceRuns"], exclude: ["README.md"]),
        .target(name: "CoppiceFuzzTargets", dependencies: ["CoppiceVision", "CoppiceRec", "CoppiceLLM"], exclude: ["README.md"]),
        .target(
            name: "CoppiceServe",
            dependencies: [
                "CoppiceLLM", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            exclude: ["README.md"]),
        .executableTarget(
            name: "coppice",
            dependencies: [
                "CoppiceBench", "CoppiceVision", "CoppiceRec", "CoppiceLLM", "CoppiceDistributed", "CoppiceServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(name: "CoppiceTestSupport", dependencies: ["CoppiceTensor", "CoppiceData"]),
        .testTarget(name: "CoppiceKernelsTests", dependencies: ["CoppiceKernels", "CQuantizedDot", "CCPUDispatch", "CoppiceTestSupport"]),
        .testTarget(name: "CoppiceTensorTests", dependencies: ["CoppiceTensor", "CoppiceTestSupport"]),
        .testTarget(name: "CoppiceNNTests", dependencies: ["CoppiceOptimizers", "CoppiceTestSupport"]),
        .testTarget(name: "CoppiceSparsityTests", dependencies: ["CoppiceSparsity", "CoppiceOptimizers", "CoppiceTestSupport"]),
        .testTarget(name: "CoppiceLLMTests", dependencies: ["CoppiceLLM"], exclude: ["Fixtures"]),
        .testTarget(name: "CoppiceDataTests", dependencies: ["CoppiceData", "CoppiceTestSupport"]),
        .testTarget(name: "CoppiceFormatsTests", dependencies: ["CoppiceFormats", "CoppiceTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CoppiceVisionTests", dependencies: ["CoppiceVision", "CoppiceTestSupport"]),
        .testTarget(name: "CoppiceRecTests", dependencies: ["CoppiceRec", "CoppiceTestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "CoppiceCLITests", dependencies: ["CoppiceVision", "CoppiceFuzzTargets", "CoppiceServe", "CoppiceTestSupport"],
            exclude: ["FuzzRegressions"]),
    ],
    swiftLanguageModes: [.v6]
)
