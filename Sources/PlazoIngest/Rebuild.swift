import Foundation
import PlazoCases
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

/// Recomputes case state from the batch log, the source of truth (`plazo rebuild`).
public enum Rebuild {
    /// What a rebuild found.
    public struct Report: Sendable {
        /// Batches replayed.
        public var batches = 0
        /// Records accepted again (duplicates included).
        public var acceptedRecords = 0
        /// Distinct events and cases in the rebuilt state.
        public var events = 0
        public var cases = 0
        /// Canonical digests of the rebuilt state and of the stored state (`case_event`).
        public var rebuiltDigest: [UInt8] = []
        public var storedDigest: [UInt8] = []
        /// Whether the rebuilt state equals the stored one.
        public var matches: Bool { rebuiltDigest == storedDigest }
    }

    /// Why a rebuild could not complete.
    public enum Failure: Error, CustomStringConvertible {
        case batchUnreadable(seq: Int64, reason: String)
        public var description: String {
            switch self {
            case let .batchUnreadable(seq, reason): "stored batch #\(seq) cannot be re-opened: \(reason)"
            }
        }
    }

    /// Re-opens every stored batch with the service key and applies its records, in acceptance
    /// order, to a fresh index. Records are validated as on the day they were received, and the
    /// signature is checked against the key that signed them whatever its status today (a key
    /// revoked later does not undo batches accepted before).
    public static func recompute(log: BatchLog, registry: AgencyRegistry, serviceKeys: [BoxKeyPair]) throws -> (CaseIndex, Report) {
        var index = CaseIndex()
        var report = Report()
        let opener = BatchOpener(serviceKeys: serviceKeys, timestampPolicy: .none) { (agencyID, keyID) throws(BatchError) in
            guard let (key, _) = registry.anyKey(agencyID: agencyID, keyID: keyID) else { throw .unknownSigningKey(keyID) }
            return key
        }
        try log.forEachBatch { seq, agencyID, bytes, receivedAt in
            let opened: OpenedBatch
            do { opened = try opener.open(bytes, now: receivedAt) } catch {
                throw Failure.batchUnreadable(seq: seq, reason: "\(error)")
            }
            report.batches += 1
            report.acceptedRecords += opened.events.count
            index.apply(opened.events, from: AgencyID(agencyID))
        }
        report.events = index.eventCount
        report.cases = index.caseCount
        report.rebuiltDigest = digest(of: index)
        var stored = CaseIndex()
        try log.forEachEvent { event, agency in stored.apply(event, from: agency) }
        report.storedDigest = digest(of: stored)
        return (index, report)
    }

    /// A digest of an index's content that does not depend on arrival order: BLAKE2b-256 of its
    /// canonical snapshot (the same set of events and attributions gives the same bytes).
    public static func digest(of index: CaseIndex) -> [UInt8] {
        (try? GenericHash.hash(index.snapshot(), outputLength: 32)) ?? []
    }
}
