import Foundation
import Logging
import PlazoStore
import Synchronization

/// Keeps a replica's case index following the shared store (PostgreSQL, several replicas): every
/// `interval`, applies the batches and release pins the other replicas stored
/// (``IngestService/followStore()``).
///
/// **Staleness bound.** A batch another replica acknowledged is in this replica's dashboards and
/// quality reports at most `interval` plus the time to open and apply what arrived (about 1 ms per
/// 1,000 events) later. Ingest and releases never depend on it: both catch up under the writer
/// lock before they count or project (``IngestService/catchUp(on:)``), so a receipt's count of new
/// events and a release's data are those of the whole log.
///
/// Runs on a thread of its own: a store call blocks its thread, and it must not take one of the
/// Swift concurrency pool's few threads from the request handlers.
public final class StoreFollower: Sendable {
    let stopped: Atomic<Bool>
    let done: DispatchSemaphore

    /// Starts following at once.
    public init(service: IngestService, interval: Duration, logger: Logger) {
        self.stopped = Atomic(false)
        self.done = DispatchSemaphore(value: 0)
        let micros = UInt32(clamping: interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000)
        let thread = Thread { [self] in
            var failing = false
            while !stopped.load(ordering: .relaxed) {
                do {
                    let applied = try service.followStore()
                    if failing { logger.notice("following the store again") }
                    failing = false
                    if applied > 0 { logger.debug("applied batches stored by other replicas", metadata: ["batches": "\(applied)"]) }
                } catch {
                    // Logged once per outage; the next look retries.
                    if !failing { logger.warning("cannot follow the store", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                usleep(micros)
            }
            done.signal()
        }
        thread.name = "plazo-follower"
        thread.start()
    }

    /// Stops following and waits for the last look to end.
    public func stop() {
        if stopped.exchange(true, ordering: .relaxed) { return }
        done.wait()
    }
}
