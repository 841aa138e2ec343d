import CoppiceRuns
import Foundation

extension TrainingProgress {
    /// An image-classifier epoch's summary line.
    func epochDone(_ record: EpochRecord, epochs: Int) {
        epochDone(
            String(
                format: "epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  lr %.4g  %.1f s",
                record.epoch, epochs, record.trainLoss, 100 * record.trainAccuracy, record.testLoss,
                100 * record.testAccuracy, record.learningRate, record.seconds))
    }
}
