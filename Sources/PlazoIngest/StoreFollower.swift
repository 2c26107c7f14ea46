import Dispatch
import Foundation
import Logging
import PlazoStore

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
/// **Lifecycle.** ``run()`` follows until its task is cancelled; `plazo serve` runs it as a
/// service of the server's `ServiceGroup`, which cancels it at a graceful shutdown once the HTTP
/// server has stopped. Each look is an asynchronous store read: the task is suspended while the
/// store answers and sleeps between looks.
public final class StoreFollower: Sendable {
    let service: IngestService
    let interval: Duration
    let logger: Logger

    /// A follower of `service`'s store; nothing happens until ``run()``.
    public init(service: IngestService, interval: Duration, logger: Logger) {
        self.service = service
        self.interval = interval
        self.logger = logger
    }

    /// Looks for batches and releases other replicas stored every `interval`, until the calling
    /// task is cancelled. A look in progress when it is cancelled is finished first (it holds the
    /// index lock while it applies a batch). A failed look is logged once per outage and retried
    /// at the next one.
    public func run() async {
        var failing = false
        while !Task.isCancelled {
            let outcome: Result<Int, any Error>
            do { outcome = .success(try await service.followStore()) } catch { outcome = .failure(error) }
            switch outcome {
            case let .success(applied):
                if failing { logger.notice("following the store again") }
                failing = false
                if applied > 0 { logger.debug("applied batches stored by other replicas", metadata: ["batches": "\(applied)"]) }
            case let .failure(error):
                if !failing { logger.warning("cannot follow the store", metadata: ["error": "\(error)"]) }
                failing = true
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
