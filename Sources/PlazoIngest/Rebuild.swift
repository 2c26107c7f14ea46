import Foundation
import PlazoCases
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire

/// The audit of the batch log (`plazo rebuild`): replays it from scratch, checking every
/// signature again, and compares what the replay gives with what each stored receipt said.
public enum Rebuild {
    /// A stored receipt that does not agree with the replay of its batch.
    public struct Mismatch: Sendable, CustomStringConvertible {
        /// The batch's place in acceptance order.
        public let seq: Int64
        /// What differs.
        public let reason: String
        public var description: String { "batch #\(seq): \(reason)" }
    }

    /// What a rebuild found.
    public struct Report: Sendable {
        /// Batches replayed.
        public var batches = 0
        /// Records accepted again (duplicates included).
        public var acceptedRecords = 0
        /// Distinct events and cases in the rebuilt state.
        public var events = 0
        public var cases = 0
        /// Canonical digest of the rebuilt state (``Rebuild/digest(of:)``): equal to the live
        /// service's after the same batches.
        public var rebuiltDigest: [UInt8] = []
        /// Receipts that disagree with the replay.
        public var mismatches: [Mismatch] = []
        /// Whether every stored receipt agrees with the replay of the log.
        public var matches: Bool { mismatches.isEmpty }
    }

    /// Re-opens every stored batch in acceptance order, verifying its signature against the key
    /// that signed it (whatever its status today: a key revoked later does not undo batches
    /// accepted before), validating its records as on the day it was received, and applying them
    /// to a fresh index. Each stored receipt must then agree with the replay: the batch digest,
    /// id, agency, time, the accepted and rejected records and the count of new events, and its
    /// signature must verify under `receiptKey` when it is given.
    ///
    /// - Throws: ``BatchLogReplay/Failure`` when a stored batch cannot be re-opened or authenticated.
    public static func recompute(
        log: BatchLog, registry: AgencyRegistry, serviceKeys: [BoxKeyPair], receiptKey: SigningPublicKey? = nil
    ) async throws -> (CaseIndex, Report) {
        var index = CaseIndex()
        var report = Report()
        // Every registered key, whatever its status (a batch signed by a key retired since is
        // still authentic), read once: the opener's lookup is synchronous.
        var keys: [AgencyID: [KeyID: SigningPublicKey]] = [:]
        for agency in try await registry.list() {
            for key in agency.keys { keys[agency.id, default: [:]][key.keyID] = key.publicKey }
        }
        let opener = BatchOpener(serviceKeys: serviceKeys, timestampPolicy: .none) { [keys] (agencyID, keyID) throws(BatchError) in
            guard let key = keys[agencyID]?[keyID] else { throw .unknownSigningKey(keyID) }
            return key
        }
        try await BatchLogReplay.forEachOpenedBatch(log, opener: opener, authenticated: true) { batch, opened in
            report.batches += 1
            report.acceptedRecords += opened.events.count
            // New events counted exactly as the live service counts them (a preview, then the
            // apply), so that the rare abuse-guard refusals compare alike too.
            let newEvents = index.preview(opened.events).reduce(0) { $0 + ($1 == .new ? 1 : 0) }
            index.apply(opened.events, from: batch.agencyID)
            if let reason = disagreement(batch, opened, newEvents: newEvents, receiptKey: receiptKey) {
                report.mismatches.append(Mismatch(seq: batch.seq, reason: reason))
            }
        }
        report.events = index.eventCount
        report.cases = index.caseCount
        report.rebuiltDigest = digest(of: index)
        return (index, report)
    }

    /// What differs between a stored receipt and the replay of its batch, or nil.
    static func disagreement(_ batch: BatchLog.StoredBatch, _ opened: OpenedBatch, newEvents: Int, receiptKey: SigningPublicKey?) -> String? {
        guard let receipt = try? Receipt.parse(batch.receipt) else { return "the stored receipt is unreadable" }
        if let receiptKey {
            do { try receipt.verify(serviceKey: receiptKey) } catch { return "the receipt's signature: \(error)" }
        }
        let rejected = opened.rejected.map { Receipt.RejectedRecord(index: UInt32($0.index), reason: RecordReason($0.error)) }
        var differences: [String] = []
        if receipt.batchDigest != Receipt.digest(of: batch.bytes) { differences.append("batch digest") }
        if receipt.batchID != opened.header.batchID { differences.append("batch id") }
        if receipt.agencyID != batch.agencyID || receipt.agencyID != opened.header.agencyID { differences.append("agency") }
        if receipt.receivedAt != batch.receivedAt { differences.append("received time") }
        if receipt.recordCount != opened.header.recordCount { differences.append("record count") }
        if receipt.accepted != UInt32(opened.events.count) { differences.append("accepted \(receipt.accepted), replay \(opened.events.count)") }
        if receipt.rejected != rejected { differences.append("rejected records") }
        if receipt.newEvents != UInt32(newEvents) { differences.append("new events \(receipt.newEvents), replay \(newEvents)") }
        return differences.isEmpty ? nil : "the receipt differs from the replay: " + differences.joined(separator: ", ")
    }

    /// A digest of an index's content that does not depend on arrival order: BLAKE2b-256 of its
    /// canonical snapshot (the same set of events and attributions gives the same bytes).
    public static func digest(of index: CaseIndex) -> [UInt8] {
        (try? GenericHash.hash(index.snapshot(), outputLength: 32)) ?? []
    }
}
