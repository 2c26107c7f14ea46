import Prometheus
import Synchronization

/// The service's operational counters, exposed in the Prometheus text format at `GET /metrics`
/// (loopback only). They count batches and events, never case content; they are for the
/// operator, not a statistical release.
public final class PlazoMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let accepted: Counter
    let replayed: Counter
    let eventsNew: Counter
    let eventsDuplicate: Counter
    let eventsRejected: Counter
    let latency: DurationHistogram
    let rejectedByReason = Mutex<[String: Counter]>([:])

    public init() {
        accepted = registry.makeCounter(name: "plazo_batches_total", labels: [("outcome", "accepted")], help: "Batches received, by outcome and reason")
        replayed = registry.makeCounter(name: "plazo_batches_total", labels: [("outcome", "replayed")], help: "Batches received, by outcome and reason")
        eventsNew = registry.makeCounter(name: "plazo_events_total", labels: [("outcome", "new")], help: "Records received, by outcome")
        eventsDuplicate = registry.makeCounter(name: "plazo_events_total", labels: [("outcome", "duplicate")], help: "Records received, by outcome")
        eventsRejected = registry.makeCounter(name: "plazo_events_total", labels: [("outcome", "rejected")], help: "Records received, by outcome")
        latency = registry.makeDurationHistogram(
            name: "plazo_ingest_duration_seconds",
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)],
            help: "Time to verify, open, store and acknowledge one accepted batch"
        )
    }

    func batchAccepted(newEvents: Int, duplicates: Int, rejected: Int) {
        accepted.increment()
        eventsNew.increment(by: Int64(newEvents))
        eventsDuplicate.increment(by: Int64(duplicates))
        eventsRejected.increment(by: Int64(rejected))
    }

    func batchReplayed() { replayed.increment() }

    func batchRejected(_ reason: String) {
        let counter = rejectedByReason.withLock { counters in
            if let c = counters[reason] { return c }
            let c = registry.makeCounter(
                name: "plazo_batches_total", labels: [("outcome", "rejected"), ("reason", reason)],
                help: "Batches received, by outcome and reason"
            )
            counters[reason] = c
            return c
        }
        counter.increment()
    }

    func observeIngest(_ duration: Duration) { latency.record(duration) }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
