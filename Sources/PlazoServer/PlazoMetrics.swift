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
    let appliedBatch: Gauge
    let indexCases: Gauge
    let indexEvents: Gauge
    let connectionsShed: Counter

    /// `plazo_batches_total`.
    static var batches: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "plazo", metricName: "batches", unitName: "total", helpText: "Batches received, by outcome and reason") }
    /// `plazo_events_total`.
    static var events: MetricNameDescriptor { MetricNameDescriptor(namespace: "plazo", metricName: "events", unitName: "total", helpText: "Records received, by outcome") }

    public init() {
        appliedBatch = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "plazo", metricName: "store_applied_batch",
            helpText: "Acceptance number of the last stored batch in this replica's case index (replicas converge on the log's last)"))
        indexCases = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "plazo", metricName: "index_cases", helpText: "Distinct cases in this replica's in-memory case index"))
        indexEvents = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "plazo", metricName: "index_events", helpText: "Distinct events in this replica's in-memory case index"))
        connectionsShed = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "plazo", metricName: "connections_shed", unitName: "total",
            helpText: "Idle connections closed at the connection cap to accept a new one"))
        accepted = registry.makeCounter(descriptor: Self.batches, labels: [("outcome", "accepted")])
        replayed = registry.makeCounter(descriptor: Self.batches, labels: [("outcome", "replayed")])
        eventsNew = registry.makeCounter(descriptor: Self.events, labels: [("outcome", "new")])
        eventsDuplicate = registry.makeCounter(descriptor: Self.events, labels: [("outcome", "duplicate")])
        eventsRejected = registry.makeCounter(descriptor: Self.events, labels: [("outcome", "rejected")])
        latency = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "plazo", metricName: "ingest_duration", unitName: "seconds",
                helpText: "Time to verify, open, store and acknowledge one accepted batch"),
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
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
            let c = registry.makeCounter(descriptor: Self.batches, labels: [("outcome", "rejected"), ("reason", reason)])
            counters[reason] = c
            return c
        }
        counter.increment()
    }

    func connectionShed() { connectionsShed.increment() }

    func observeIngest(_ duration: Duration) { latency.record(duration) }

    /// Records how far the case index has applied the batch log (read when metrics are scraped).
    public func setAppliedBatch(_ seq: Int64) { appliedBatch.set(Double(seq)) }

    /// Records the case index's size (read when metrics are scraped).
    public func setIndexSize(cases: Int, events: Int) {
        indexCases.set(Double(cases))
        indexEvents.set(Double(events))
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
