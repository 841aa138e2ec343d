import CoppiceTensor
import Dispatch

/// Per-image transforms applied as batches are built.
public struct Augmentation: Sendable, Equatable {
    /// Zero-pad by this many pixels, then crop back to the original size at a random offset.
    public var cropPadding: Int
    /// Mirror left–right with probability 1/2.
    public var horizontalFlip: Bool
    /// Per-channel mean and standard deviation applied to values scaled to [0, 1].
    public var mean: [Float]
    public var standardDeviation: [Float]

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, mean: [Float] = [0], standardDeviation: [Float] = [1]) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Normalization only (evaluation).
    public var normalizationOnly: Augmentation {
        Augmentation(mean: mean, standardDeviation: standardDeviation)
    }
}

/// A batch of images [n, c, h, w] (normalized floats) and their labels.
public struct Batch: Sendable {
    public var images: Tensor
    public var labels: [Int]
}

/// Batches of an `ImageDataset`: seeded shuffling per epoch, optional drop-last, augmentation, and the
/// next batch built on a background thread while the caller trains on the current one.
///
/// The order and the augmentation of epoch e depend only on (seed, e), so a run resumed at an epoch
/// boundary sees exactly the batches an uninterrupted run would.
public struct DataLoader: Sendable {
    public let dataset: ImageDataset
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let augmentation: Augmentation
    public let seed: UInt64

    public init(
        dataset: ImageDataset, batchSize: Int, shuffle: Bool, dropLast: Bool = false,
        augmentation: Augmentation = Augmentation(), seed: UInt64 = 0
    ) throws(DataError) {
        guard batchSize > 0 else { throw .malformed(path: "batch size", reason: "must be positive, got \(batchSize)") }
        guard augmentation.mean.count == dataset.channels, augmentation.standardDeviation.count == dataset.channels,
            augmentation.standardDeviation.allSatisfy({ $0 > 0 })
        else {
            throw .malformed(
                path: "normalization",
                reason: "needs \(dataset.channels) means and positive deviations, got \(augmentation.mean) and \(augmentation.standardDeviation)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.augmentation = augmentation
        self.seed = seed
    }

    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The example order of `epoch`.
    public func order(epoch: Int) -> [Int] {
        var indices = Array(0..<dataset.count)
        guard shuffle else { return indices }
        var rng = RandomGenerator(seed: seed &+ 0x5851_F42D_4C95_7F2D &* UInt64(epoch + 1))
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            indices.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return indices
    }

    /// Batch `index` of `epoch` built from `order`.
    public func batch(_ index: Int, epoch: Int, order: [Int]) -> Batch {
        let start = index * batchSize
        let members = Array(order[start..<min(start + batchSize, order.count)])
        let (c, h, w) = (dataset.channels, dataset.height, dataset.width)
        var rng = RandomGenerator(seed: seed ^ (UInt64(epoch) << 32) ^ UInt64(index) &* 0x9E37_79B9)
        var values = [Float](repeating: 0, count: members.count * dataset.imageSize)
        let scale = (0..<c).map { 1 / (255 * augmentation.standardDeviation[$0]) }
        let shift = (0..<c).map { -augmentation.mean[$0] / augmentation.standardDeviation[$0] }
        let pad = augmentation.cropPadding
        dataset.pixels.withUnsafeBufferPointer { pixels in
            values.withUnsafeMutableBufferPointer { out in
                for (slot, example) in members.enumerated() {
                    let dy = pad > 0 ? Int(rng.next() % UInt64(2 * pad + 1)) - pad : 0
                    let dx = pad > 0 ? Int(rng.next() % UInt64(2 * pad + 1)) - pad : 0
                    let flip = augmentation.horizontalFlip && rng.next() & 1 == 1
                    for channel in 0..<c {
                        let src = example * dataset.imageSize + channel * h * w
                        let dst = slot * dataset.imageSize + channel * h * w
                        for y in 0..<h {
                            let sy = y + dy
                            for x in 0..<w {
                                let sx = (flip ? w - 1 - x : x) + dx
                                let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                                let raw: Float = inside ? Float(pixels[src + sy * w + sx]) : 0
                                out[dst + y * w + x] = raw * scale[channel] + shift[channel]
                            }
                        }
                    }
                }
            }
        }
        let images = Tensor(values).reshaped([members.count, c, h, w])
        return Batch(images: images, labels: members.map { dataset.labels[$0] })
    }

    /// The batches of `epoch` in order, each built in the background while the previous one is used.
    public func batches(epoch: Int) -> PrefetchingBatches {
        PrefetchingBatches(loader: self, epoch: epoch)
    }
}

/// An iterator over one epoch that always has the next batch in preparation.
public final class PrefetchingBatches: IteratorProtocol, Sequence, @unchecked Sendable {
    // Invariant for @unchecked Sendable: `pending` is written by the background task before it signals
    // `ready` and read by the consumer only after waiting on `ready`; one task is in flight at a time.
    private let loader: DataLoader
    private let epoch: Int
    private let order: [Int]
    private var nextIndex = 0
    private var pending: Batch?
    private let ready = DispatchSemaphore(value: 0)
    private var inFlight = false

    init(loader: DataLoader, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        self.order = loader.order(epoch: epoch)
        startNext()
    }

    public func next() -> Batch? {
        guard inFlight else { return nil }
        ready.wait()
        inFlight = false
        let batch = pending
        pending = nil
        startNext()
        return batch
    }

    private func startNext() {
        guard nextIndex < loader.batchCount else { return }
        let index = nextIndex
        nextIndex += 1
        inFlight = true
        DispatchQueue.global().async { [self] in
            pending = loader.batch(index, epoch: epoch, order: order)
            ready.signal()
        }
    }

    deinit {
        if inFlight { ready.wait() }
    }
}
