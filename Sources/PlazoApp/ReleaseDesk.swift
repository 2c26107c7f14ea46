import Foundation
import PlazoCases
import PlazoIngest
import PlazoReleases
import PlazoSodium
import PlazoStore

/// The one release path, shared by `POST /v1/releases` and `plazo release create`: a
/// ``ReleaseEngine`` bound to the case state it reads and pins.
///
/// A running service's desk (``PlazoService/releases``) reads its live index; a stopped service's
/// (``replaying(database:serviceKeys:snapshotPath:)``) reads an index replayed from the log and is
/// refused if the log moves on meanwhile. Reading releases, dry runs and drafts need no case state:
/// they go to ``engine`` directly.
public struct ReleaseDesk: Sendable {
    /// The release engine over the store (reads, dry runs, drafts, withdrawals).
    public let engine: ReleaseEngine
    /// The case state releases made here read and pin.
    public let cases: any LiveCases

    /// A desk over `engine` and `cases`.
    public init(engine: ReleaseEngine, cases: any LiveCases) {
        self.engine = engine
        self.cases = cases
    }

    /// A desk for a process that is not the service: the case state with its pins rebuilt from
    /// the store as the service's start does, from the case-index snapshot and the later batches
    /// when the snapshot is usable, else from the whole log.
    ///
    /// - Returns: the desk, and what the replay did with the snapshot (for a warning when it was
    ///   refused).
    public static func replaying(
        database: AppDatabase, serviceKeys: [BoxKeyPair], snapshotPath: String?
    ) async throws -> (desk: ReleaseDesk, snapshot: BatchLogReplay.SnapshotUse) {
        let replayed = try await BatchLogReplay.replay(
            BatchLog(database), serviceKeys: serviceKeys, pinPoints: await ReleaseStore(database).pinPoints(),
            snapshotPath: database.keepsLocalSnapshot ? snapshotPath : nil)
        let cases = ReplayedCases(replayed.index, lastBatch: replayed.lastBatch)
        return (ReleaseDesk(engine: ReleaseEngine(database: database), cases: cases), replayed.snapshot)
    }

    /// Creates a release over the case state, stores it with its ledger spend and watermark, and
    /// pins what it counted (``ReleaseEngine/create(spec:requester:live:draftID:)``).
    public func create(spec: ReleaseSpec, requester: String) async throws(ReleaseError) -> Release {
        try await engine.create(spec: spec, requester: requester, live: cases)
    }

    /// Publishes draft `id` now (``ReleaseEngine/publishDraft(id:requester:live:)``).
    public func publishDraft(id: Int64, requester: String) async throws(ReleaseError) -> Release {
        try await engine.publishDraft(id: id, requester: requester, live: cases)
    }
}
