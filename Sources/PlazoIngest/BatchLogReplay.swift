import PlazoCases
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

/// Case state from the batch log: the one way the service turns stored batches back into a case
/// index (at start-up, and for `plazo release create` on a stopped service).
public enum BatchLogReplay {
    /// Why the log could not be replayed.
    public enum Failure: Error, CustomStringConvertible {
        /// A stored batch could not be opened: most often it was sealed to a service key that is
        /// no longer configured.
        case batchUnreadable(seq: Int64, reason: String)

        public var description: String {
            switch self {
            case let .batchUnreadable(seq, reason):
                "stored batch #\(seq) cannot be re-opened (\(reason)); the service needs every box key that stored batches were sealed to"
            }
        }
    }

    /// Re-opens every stored batch and applies its accepted records, in acceptance order, to a
    /// fresh index.
    ///
    /// Each batch's records are validated as on the day it was received, so a replay accepts
    /// exactly the records its receipt accepted; and events are applied in the order the live
    /// service applied them, so the index, its attributions and any ``ApplyOutcome/caseFull``
    /// refusals come out the same. Signatures are not checked again here (they were checked
    /// before the batch was stored; ``Rebuild`` checks them); the sealed box still refuses any
    /// altered payload byte.
    public static func replay(_ log: BatchLog, serviceKeys: [BoxKeyPair]) async throws -> CaseIndex {
        let opener = BatchOpener(serviceKeys: serviceKeys, timestampPolicy: .none) { (_, keyID) throws(BatchError) in
            throw .unknownSigningKey(keyID)  // never asked: openStored does not authenticate
        }
        var index = CaseIndex()
        try await forEachOpenedBatch(log, opener: opener, authenticated: false) { batch, opened in
            index.apply(opened.events, from: batch.agencyID)
        }
        return index
    }

    /// Calls `body` with every stored batch, in acceptance order, opened and validated as on the
    /// day it was received; with `authenticated`, after checking its signature and timestamps
    /// too (``BatchOpener/open(_:now:)``), else without (``BatchOpener/openStored(_:receivedAt:)``).
    ///
    /// - Throws: ``Failure/batchUnreadable(seq:reason:)`` for the first batch that does not open.
    /// With `after`, only the batches accepted after that one.
    static func forEachOpenedBatch(
        _ log: BatchLog, after: Int64 = 0, opener: BatchOpener, authenticated: Bool, _ body: (BatchLog.StoredBatch, OpenedBatch) throws -> Void
    ) async throws {
        try await log.forEachBatch(after: after) { batch in
            let opened: OpenedBatch
            do {
                opened = authenticated
                    ? try opener.open(batch.bytes, now: batch.receivedAt) : try opener.openStored(batch.bytes, receivedAt: batch.receivedAt)
            } catch {
                throw Failure.batchUnreadable(seq: batch.seq, reason: "\(error)")
            }
            try body(batch, opened)
        }
    }
}
