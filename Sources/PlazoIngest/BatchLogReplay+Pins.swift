import Foundation
import PlazoCases
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

extension BatchLogReplay {
    /// Case state and pinned cohorts from the store: replays the batch log as ``replay(_:serviceKeys:)``
    /// does and, right after the batch each stored release names as its watermark, re-applies that
    /// release's pinning (``CaseIndex/pin(asOf:cohorts:)``), so the pins come back exactly as the
    /// live service set them (`docs/privacy-model.md` §4).
    ///
    /// With `snapshot` (``IndexSnapshot/load(from:log:serviceKeys:pinPoints:)``, loaded against the
    /// same `pinPoints`), starts from its index instead of an empty one: the pin points it already
    /// holds are skipped, the others at its watermark are applied to it first (a release stored
    /// after the snapshot was written, before any later batch), and only the batches after its
    /// watermark are replayed. The result is the state a replay of the whole log gives.
    ///
    /// - Returns: the index and the acceptance number of the last batch applied (0: none).
    ///
    /// `throughBatch` stops the replay after that batch (audits: the state a release saw); it
    /// must not be before the snapshot's watermark.
    public static func replay(
        _ log: BatchLog, serviceKeys: [BoxKeyPair], pinPoints: [ReleasePinPoint], throughBatch: Int64 = .max,
        from snapshot: consuming IndexSnapshot.Loaded? = nil
    ) async throws -> (index: CaseIndex, lastBatch: Int64) {
        let opener = BatchOpener(serviceKeys: serviceKeys, timestampPolicy: .none) { (_, keyID) throws(BatchError) in
            throw .unknownSigningKey(keyID)
        }
        var start = consume snapshot
        var index = start?.index ?? CaseIndex()
        var pending = pinPoints[(start?.pinPointsApplied ?? 0)...]
        var last: Int64 = start?.watermark ?? 0
        // `index` must be the index's only owner before it changes: a second reference would make
        // the first change copy all of it (about 1 GB at 10 million cases).
        start = nil
        precondition(throughBatch >= last, "a replay cannot stop before its snapshot's watermark")
        func pinThrough(_ seq: Int64) {
            while let p = pending.first, p.batchWatermark <= seq {
                apply(p, to: &index)
                pending = pending.dropFirst()
            }
        }
        pinThrough(last)
        try await forEachOpenedBatch(log, after: last, opener: opener, authenticated: false) { batch, opened in
            guard batch.seq <= throughBatch else { return }
            index.apply(opened.events, from: batch.agencyID)
            last = batch.seq
            pinThrough(batch.seq)
        }
        // A watermark beyond the last stored batch cannot happen (a release names a batch it saw);
        // apply any such pinning at the end rather than dropping it.
        pinThrough(throughBatch == .max ? .max : last)
        return (index, last)
    }

    /// A start from the case-index snapshot: what it held and what the start added.
    public struct SnapshotStart: Sendable, Equatable {
        /// The snapshot's watermark.
        public var watermark: Int64
        /// Release pin points in the snapshot.
        public var pinPointsApplied: Int
        /// Events in the snapshot.
        public var events: Int
        /// Batches replayed after it.
        public var tailBatches: Int
        /// Seconds to read and check the snapshot.
        public var loadSeconds: Double
        /// Seconds to replay the later batches (and re-apply the later releases' pins).
        public var tailSeconds: Double
    }

    /// What a start-up did with the case-index snapshot.
    public enum SnapshotUse: Sendable, CustomStringConvertible {
        /// No snapshot path was given.
        case none
        /// There was no snapshot file: the whole log was replayed.
        case missing
        /// The snapshot was loaded and only the batches after its watermark were replayed.
        case loaded(SnapshotStart)
        /// The snapshot could not be used (the reason says why): the whole log was replayed.
        case refused(IndexSnapshot.Refusal)

        /// A sentence for the log.
        public var description: String {
            switch self {
            case .none: "no snapshot configured"
            case .missing: "no snapshot file"
            case let .loaded(s):
                "snapshot at batch #\(s.watermark) loaded in \(String(format: "%.2f", s.loadSeconds)) s, \(s.tailBatches) later batch(es) replayed in \(String(format: "%.2f", s.tailSeconds)) s"
            case let .refused(why): "\(why); ignored, the whole batch log was replayed"
            }
        }
    }

    /// The start-up replay: from the snapshot at `snapshotPath` when there is a usable one, else
    /// from the start of the log. A snapshot that cannot be used never stops the start: the
    /// result says why it was ignored (log it).
    public static func replay(
        _ log: BatchLog, serviceKeys: [BoxKeyPair], pinPoints: [ReleasePinPoint], snapshotPath: String?
    ) async throws -> (index: CaseIndex, lastBatch: Int64, snapshot: SnapshotUse) {
        guard let snapshotPath else {
            let (index, last) = try await replay(log, serviceKeys: serviceKeys, pinPoints: pinPoints)
            return (index, last, .none)
        }
        let started = ContinuousClock.now
        var use: SnapshotUse
        var loaded: IndexSnapshot.Loaded?
        do {
            loaded = try await IndexSnapshot.load(from: snapshotPath, log: log, serviceKeys: serviceKeys, pinPoints: pinPoints)
            use = loaded.map {
                .loaded(SnapshotStart(
                    watermark: $0.watermark, pinPointsApplied: $0.pinPointsApplied, events: $0.index.eventCount, tailBatches: 0,
                    loadSeconds: (ContinuousClock.now - started) / .seconds(1), tailSeconds: 0))
            } ?? .missing
        } catch {
            use = .refused(error)
        }
        let replayStarted = ContinuousClock.now
        let (index, last) = try await replay(log, serviceKeys: serviceKeys, pinPoints: pinPoints, from: loaded.take())
        if case var .loaded(s) = use {
            s.tailSeconds = (ContinuousClock.now - replayStarted) / .seconds(1)
            s.tailBatches = try await log.batchCount(after: s.watermark)
            use = .loaded(s)
        }
        return (index, last, use)
    }

    /// Re-applies one release's pinning, then its continual-release stream steps
    /// (``CaseIndex/enterStreams(asOf:steps:)``), in the order the release path applies them.
    static func apply(_ point: ReleasePinPoint, to index: inout CaseIndex) {
        guard let cutoff = Day(iso: point.cutoff) else { return }
        func number(_ q: Quarter) -> Int { (q.year - 2000) * 4 + q.quarter - 1 }
        let cohorts = point.cohorts.compactMap { Quarter($0) }.map(number)
        index.pin(asOf: cutoff, cohorts: cohorts)
        var steps: [Int: Int] = [:]
        for (c, step) in point.continualSteps { if let q = Quarter(c) { steps[number(q)] = step } }
        index.enterStreams(asOf: cutoff, steps: steps)
    }
}
