import CoppiceLLM
import Foundation
import Prometheus

/// What `GET /metrics` reports, in Prometheus' text format (swift-prometheus): requests by endpoint and
/// status, prompt and generated tokens, the queue and the busy sequences, and histograms of time to
/// first token, inter-token latency and batch occupancy (sequences per decode step).
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let promptTokens: Counter
    let completionTokens: Counter
    let queueLength: Gauge
    let activeSequences: Gauge
    let timeToFirstToken: ValueHistogram
    let interTokenLatency: ValueHistogram
    let batchOccupancy: ValueHistogram

    public init(sequences: Int) {
        promptTokens = registry.makeCounter(name: "coppice_prompt_tokens_total", help: "Prompt tokens of accepted requests.")
        completionTokens = registry.makeCounter(name: "coppice_completion_tokens_total", help: "Tokens generated.")
        queueLength = registry.makeGauge(name: "coppice_queue_length", help: "Requests waiting for a free sequence.")
        activeSequences = registry.makeGauge(name: "coppice_active_sequences", help: "Sequences generating now.")
        timeToFirstToken = registry.makeValueHistogram(
            name: "coppice_time_to_first_token_seconds", buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            help: "From a request's arrival to its first generated token.")
        interTokenLatency = registry.makeValueHistogram(
            name: "coppice_inter_token_latency_seconds", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
            help: "Between consecutive tokens of one request.")
        var occupancy: [Double] = [1]
        while Int(occupancy.last!) < sequences { occupancy.append(occupancy.last! * 2) }
        batchOccupancy = registry.makeValueHistogram(
            name: "coppice_batch_occupancy", buckets: occupancy, help: "Sequences advanced together by one decode step.")
    }

    func request(endpoint: String, status: Int) {
        registry.makeCounter(name: "coppice_requests_total", labels: [("endpoint", endpoint), ("status", "\(status)")], help: "Requests answered.")
            .increment()
    }

    /// The metrics as Prometheus text, the gauges read from `batcher` now.
    func text(_ batcher: ContinuousBatcher) -> String {
        queueLength.set(Double(batcher.queueLength))
        activeSequences.set(Double(batcher.activeCount))
        return registry.emitToString()
    }
}
