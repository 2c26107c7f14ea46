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
    /// - Returns: the index and the acceptance number of the last batch applied (0: none).
    ///
    /// `throughBatch` stops the replay after that batch (audits: the state a release saw).
    public static func replay(
        _ log: BatchLog, serviceKeys: [BoxKeyPair], pinPoints: [ReleasePinPoint], throughBatch: Int64 = .max
    ) throws -> (index: CaseIndex, lastBatch: Int64) {
        let opener = BatchOpener(serviceKeys: serviceKeys, timestampPolicy: .none) { (_, keyID) throws(BatchError) in
            throw .unknownSigningKey(keyID)
        }
        var index = CaseIndex()
        var pending = pinPoints[...]
        var last: Int64 = 0
        func pinThrough(_ seq: Int64) {
            while let p = pending.first, p.batchWatermark <= seq {
                apply(p, to: &index)
                pending = pending.dropFirst()
            }
        }
        pinThrough(0)
        try forEachOpenedBatch(log, opener: opener, authenticated: false) { batch, opened in
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

    /// Re-applies one release's pinning.
    static func apply(_ point: ReleasePinPoint, to index: inout CaseIndex) {
        guard let cutoff = Day(iso: point.cutoff) else { return }
        let cohorts = point.cohorts.compactMap { Quarter($0) }.map { ($0.year - 2000) * 4 + $0.quarter - 1 }
        index.pin(asOf: cutoff, cohorts: cohorts)
    }
}
