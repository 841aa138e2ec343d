import CoppiceData
import Foundation

/// The datasets `coppice train` reads, each from a directory of the files as distributed.
public enum DatasetName: String, CaseIterable, Sendable, Codable {
    case mnist, fashionMNIST = "fashion-mnist", mnist5k = "mnist-5k", cifar10, cifar100

    /// The default directory under the data cache that `scripts/fetch-data.sh` fills.
    public var defaultDirectory: String {
        switch self {
        case .mnist: ".data/mnist"
        case .fashionMNIST: ".data/fashion-mnist"
        case .mnist5k: ".data/mnist-5k"
        case .cifar10: ".data/cifar-10-batches-bin"
        case .cifar100: ".data/cifar-100-binary"
        }
    }

    /// Per-channel mean and standard deviation of the training images (scaled to [0, 1]).
    public var normalization: (mean: [Float], standardDeviation: [Float]) {
        switch self {
        case .mnist, .mnist5k: ([0.1307], [0.3081])
        case .fashionMNIST: ([0.2860], [0.3530])
        case .cifar10: ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])
        case .cifar100: ([0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762])
        }
    }

    /// Training and test sets. MNIST-5k has no test split and is sorted by class: every fifth row is
    /// held out (100 per class).
    public func load(directory: String? = nil) throws(DataError) -> (train: ImageDataset, test: ImageDataset) {
        let dir = directory ?? defaultDirectory
        func file(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        switch self {
        case .mnist, .fashionMNIST:
            let train = try IDX.imageDataset(images: file("train-images-idx3-ubyte.gz"), labels: file("train-labels-idx1-ubyte.gz"))
            let test = try IDX.imageDataset(images: file("t10k-images-idx3-ubyte.gz"), labels: file("t10k-labels-idx1-ubyte.gz"))
            return (train, test)
        case .mnist5k:
            let all = try PixelCSV.read(file("mnist_5k.csv.gz"))
            let indices = Array(0..<all.count)
            return (all.select(indices.filter { $0 % 5 != 4 }), all.select(indices.filter { $0 % 5 == 4 }))
        case .cifar10, .cifar100:
            let variant: CIFAR.Variant = self == .cifar10 ? .cifar10 : .cifar100
            return (
                try CIFAR.read(variant.trainFiles.map(file), variant: variant),
                try CIFAR.read(variant.testFiles.map(file), variant: variant)
            )
        }
    }
}
