import Dispatch
import Foundation
import Logging
import PlazoCases
import PlazoSodium
import PlazoStore
import Synchronization

/// What the service's last snapshot (written, or loaded at start) holds.
struct SnapshotState: Sendable {
    /// Its watermark (0: none yet).
    var watermark: Int64 = 0
    /// Release pin points in it.
    var pinPoints = 0
    /// Events in its index.
    var events = 0
    /// When it was written or loaded (the start, for a service without one yet).
    var at: ContinuousClock.Instant

    init(startedAt: ContinuousClock.Instant) { at = startedAt }
}

/// When the service writes a snapshot while it runs (it always writes one at a clean shutdown).
public struct SnapshotPolicy: Sendable {
    /// Write once this many events were added since the last snapshot.
    public var everyEvents: Int
    /// Or once this much time has passed since the last snapshot, if anything changed at all.
    public var interval: Duration

    /// Defaults: a million events (about 2 % of the events of 10 million cases, a quarter of a
    /// second to replay) or ten minutes.
    public init(everyEvents: Int = 1_000_000, interval: Duration = .seconds(600)) {
        self.everyEvents = everyEvents
        self.interval = interval
    }
}

extension IngestService {
    /// Writes the case-index snapshot (``IndexSnapshot``) of the state now, if this service keeps
    /// one (``snapshotPath``).
    ///
    /// The state is taken under the store's writer and the index lock, the way a release takes
    /// its projection: no batch commits and no release pins meanwhile, so the index, the watermark
    /// and the releases it pinned agree. Under them the index is only encoded into memory
    /// (``CaseIndex/image()``, under a second at 10 million cases, for which ingest waits);
    /// encryption and the write happen after both are released. (Taking a copy-on-write
    /// reference instead would make the next batch copy the whole index, which took longer: about
    /// 2 s at 10 million cases, and more memory.)
    ///
    /// - Parameter ifChanged: write only when the log or the releases moved since the last
    ///   snapshot written or loaded.
    /// - Returns: what was written, or nil when nothing was (no snapshot path, no batch yet, or
    ///   nothing changed).
    @discardableResult
    public func writeSnapshot(ifChanged: Bool = true) async throws -> IndexSnapshot.Written? {
        guard let snapshotPath, let snapshotKey else { return nil }
        return try await snapshotWrites.withLock {
            try await write(to: snapshotPath, key: snapshotKey, ifChanged: ifChanged)
        }
    }

    /// Writes a snapshot if `policy` says one is due: the log or the releases moved since the last
    /// one, and either ``SnapshotPolicy/everyEvents`` events were added or
    /// ``SnapshotPolicy/interval`` has passed. Takes as long as the write: call it off the
    /// request path (``SnapshotSchedule``).
    @discardableResult
    public func writeSnapshotIfDue(_ policy: SnapshotPolicy) async throws -> IndexSnapshot.Written? {
        guard let snapshotPath, let snapshotKey else { return nil }
        return try await snapshotWrites.withLock {
            let state = snapshotState.withLock { $0 }
            let events = index.withLock { $0.eventCount }
            guard events - state.events >= policy.everyEvents || ContinuousClock.now - state.at >= policy.interval else { return nil }
            return try await write(to: snapshotPath, key: snapshotKey, ifChanged: true)
        }
    }

    /// One write; the caller holds ``snapshotWrites``, so `snapshotState` changes only here.
    private func write(to path: String, key: BoxKeyPair, ifChanged: Bool) async throws -> IndexSnapshot.Written? {
        let state = snapshotState.withLock { $0 }
        // A cheap look first, without the writer: nothing to do is the common answer.
        let releases = ReleaseStore(database)
        if ifChanged, try await log.lastSeq() == state.watermark, try await releases.pinPoints().count == state.pinPoints { return nil }
        let started = ContinuousClock.now
        var held: Duration = .zero  // how long ingest could not commit because of this write
        let taken: (image: [UInt8], events: Int, cases: Int, watermark: Int64, pinPoints: [ReleasePinPoint])? = try await releases.withWriter { writer in
            let locked = ContinuousClock.now
            defer { held = ContinuousClock.now - locked }
            let watermark = try await writer.inputs().batchWatermark
            let pinPoints = try await writer.pinPoints()
            guard watermark > 0, !(ifChanged && watermark == state.watermark && pinPoints.count == state.pinPoints) else { return nil }
            return index.withLock { index in (index.image(), index.eventCount, index.caseCount, watermark, pinPoints) }
        }
        guard let (image, events, cases, watermark, pinPoints) = taken else { return nil }
        let written = try await IndexSnapshot.write(
            image: image, events: events, cases: cases, watermark: watermark, pinPoints: pinPoints[...], log: log, key: key, to: path)
        var next = SnapshotState(startedAt: ContinuousClock.now)
        next.watermark = watermark
        next.pinPoints = pinPoints.count
        next.events = written.events
        snapshotState.withLock { $0 = next }
        logger.info(
            "case-index snapshot written",
            metadata: [
                "watermark": "\(watermark)", "bytes": "\(written.bytes)",
                "seconds": "\(String(format: "%.2f", (ContinuousClock.now - started) / .seconds(1)))",
                "ingest.held.seconds": "\(String(format: "%.2f", held / .seconds(1)))",
            ])
        return written
    }
}

/// The service's snapshot while it runs and at its stop: writes in the background when
/// ``SnapshotPolicy`` says one is due, checking every `checkEvery`, and once more at a clean stop.
///
/// **Lifecycle.** ``run()`` checks until its task is cancelled; ``writeAtStop()`` is the write at a
/// clean stop. `plazo serve` runs both as one service of the server's `ServiceGroup`, after the
/// HTTP server has stopped at a graceful shutdown, so that the state written is final. A write's
/// store reads suspend; its encryption and synced file write (seconds at millions of cases) run
/// on a queue of their own (``IndexSnapshot``), never on the Swift concurrency pool; writes wait
/// for each other (``IngestService/snapshotWrites``), so two never overlap. A failed write is
/// logged and tried again at the next check.
public final class SnapshotSchedule: Sendable {
    let service: IngestService
    /// nil: no background writes, only the one at the stop.
    let policy: SnapshotPolicy?
    let checkEvery: Duration

    /// A schedule for `service`'s snapshot (``IngestService/snapshotPath``); nothing is written
    /// until ``run()`` or ``writeAtStop()``.
    ///
    /// - Parameter policy: when to write while serving; nil writes only at the stop.
    public init(service: IngestService, policy: SnapshotPolicy?, checkEvery: Duration = .seconds(30)) {
        self.service = service
        self.policy = policy
        self.checkEvery = checkEvery
    }

    /// Checks every `checkEvery` whether a snapshot is due and writes it, until the calling task is
    /// cancelled (a write in progress then finishes first). Without a policy, waits for the
    /// cancellation only.
    public func run() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: policy == nil ? .seconds(3600) : checkEvery) } catch { return }
            guard let policy else { continue }
            do { try await service.writeSnapshotIfDue(policy) } catch {
                service.logger.warning("case-index snapshot not written", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The write at a clean stop, if anything changed since the last snapshot written or loaded.
    /// Call it once nothing else changes the index (the server has stopped). A failure only makes
    /// the next start replay more of the log: it is logged, not thrown.
    public func writeAtStop() async {
        do {
            if try await service.writeSnapshot() == nil { service.logger.info("case-index snapshot up to date") }
        } catch {
            service.logger.warning("case-index snapshot not written at shutdown", metadata: ["error": "\(error)"])
        }
    }
}
