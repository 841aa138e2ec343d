/// One epoch's results.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
    public var learningRate: Double
    public var seconds: Double

    public init(
        epoch: Int, step: Int, trainLoss: Double, trainAccuracy: Double, testLoss: Double, testAccuracy: Double,
        learningRate: Double, seconds: Double
    ) {
        (self.epoch, self.step, self.trainLoss, self.trainAccuracy) = (epoch, step, trainLoss, trainAccuracy)
        (self.testLoss, self.testAccuracy, self.learningRate, self.seconds) = (testLoss, testAccuracy, learningRate, seconds)
    }

    enum CodingKeys: String, CodingKey {
        case epoch, step, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss"
        case testAccuracy = "test_accuracy", learningRate = "lr"
    }
}
