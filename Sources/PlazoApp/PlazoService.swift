import Foundation
import Logging
import PlazoCases
import PlazoIngest
import PlazoModel
import PlazoReleases
import PlazoSodium
import PlazoStore
import PlazoWire

/// One Plazo service: the application layer between the interfaces (the HTTP server, the `plazo`
/// command) and the parts that keep the data.
///
/// It owns the store, the receive pipeline with the in-memory case index it feeds, the release
/// path over that index, and the policy for the index's snapshot and for following other replicas.
/// The server and the CLI call it and nothing below it for what a service does: they never wire
/// ingest and releases together themselves, and never branch on the store's engine (the store
/// answers capability questions: ``AppDatabase/isShared``, ``AppDatabase/keepsLocalSnapshot``).
///
/// Who calls whom (`docs/architecture.md`, "Layers"):
/// - a batch: interface → ``submit(_:)`` → `IngestService` (verification order, one transaction
///   with its receipt in `BatchLog`, then the case index);
/// - a release: interface → ``releases`` (``ReleaseDesk``) → `ReleaseEngine` over ``ServiceCases``
///   (the index behind its lock, catching up with other replicas under the writer);
/// - reads (tokens, agencies, ledger, published releases) go to the store objects it hands out.
public final class PlazoService: Sendable {
    /// The store: the batch log, agencies, tokens, the ledger and releases.
    public let database: AppDatabase
    /// The receive pipeline and the case index (internal: interfaces go through this type).
    let ingest: IngestService
    /// Agencies and their signing keys.
    public let registry: AgencyRegistry
    /// API tokens (hashes only).
    public let tokens: TokenStore
    /// The release path over this service's live case state (the one path the server and the CLI
    /// share).
    public let releases: ReleaseDesk

    /// Opens the service over a migrated store: rebuilds the case index from the snapshot beside a
    /// SQLite store (when usable) and the batches after it, or from the whole log.
    ///
    /// - Parameters:
    ///   - serviceKeys: the box key pairs new batches may be sealed to (normally one).
    ///   - retiredServiceKeys: former box keys, used only to re-open stored batches.
    ///   - receiptKey: the Ed25519 key that signs receipts.
    ///   - timestampPolicy: allowed clock skew and age of batch creation times.
    ///   - snapshotPath: where the case-index snapshot is kept (nil: replay the whole log at every
    ///     start). Ignored on a shared store, whose replicas replay the log.
    /// - Throws: what `IngestService` throws when a stored batch cannot be re-opened.
    public convenience init(
        database: AppDatabase, serviceKeys: [BoxKeyPair], retiredServiceKeys: [BoxKeyPair] = [], receiptKey: SigningKeyPair,
        timestampPolicy: TimestampPolicy = .standard,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "plazo"), snapshotPath: String? = nil
    ) async throws {
        let ingest = try await IngestService(
            database: database, serviceKeys: serviceKeys, retiredServiceKeys: retiredServiceKeys, receiptKey: receiptKey,
            timestampPolicy: timestampPolicy, clock: clock, logger: logger,
            snapshotPath: database.keepsLocalSnapshot ? snapshotPath : nil)
        self.init(ingest: ingest)
    }

    /// A service over a receive pipeline built by the caller (tests and benchmarks that need the
    /// pipeline's own knobs). Releases, tokens and agencies use the pipeline's store.
    public init(ingest: IngestService) {
        self.ingest = ingest
        self.database = ingest.database
        self.registry = ingest.registry
        self.tokens = TokenStore(ingest.database)
        // The pipeline's own database object: a release holds its writer from projection to
        // pinning, which holds ingest back only when both use the same connection pool.
        self.releases = ReleaseDesk(engine: ReleaseEngine(database: ingest.database), cases: ServiceCases(ingest: ingest))
    }

    // MARK: Batches

    /// Receives one batch (`specs/batch-format.md` §7): stored with its receipt and applied to the
    /// case index, or refused whole with a reason.
    public func submit(_ bytes: [UInt8]) async throws(IngestError) -> IngestResult {
        try await ingest.submit(bytes)
    }

    /// The stored receipt of batch `id` and the agency that sent it (nil: no such batch).
    public func storedReceipt(batchID id: BatchID) async throws -> (agencyID: AgencyID, receipt: [UInt8])? {
        try await ingest.log.receipt(batchID: id)
    }

    /// One agency's quality report and worklists as of `cutoff` (its own events only).
    public func qualityReport(agency: AgencyID, asOf cutoff: Day, limit: Int = 500) async throws -> AgencyQualityReport {
        try await ingest.qualityReport(agency: agency, asOf: cutoff, limit: limit)
    }

    // MARK: The case index

    /// Distinct cases and events in the case index as of its last change; never waits for the
    /// index lock.
    public var indexSize: (cases: Int, events: Int) { ingest.indexSize }

    /// The acceptance number of the last batch in the case index.
    public var appliedBatch: Int64 { ingest.appliedBatch }

    /// Stored batches, and distinct events and cases in the index (exact: logged at debug level
    /// only, see `docs/api-guide.md`, "Logs").
    public func counts() async throws -> (batches: Int, events: Int, cases: Int) { try await ingest.counts() }

    /// What the start did with the case-index snapshot.
    public var startupSnapshot: BatchLogReplay.SnapshotUse { ingest.startupSnapshot }

    /// Applies what other replicas stored since the last look (nothing to do on a store this
    /// service alone writes). Returns the number of batches applied.
    @discardableResult
    public func followStore() async throws -> Int { try await ingest.followStore() }

    /// Runs `body` on the case index under its lock (tests and tools; the release path goes through
    /// ``releases``).
    public func withCaseIndex<R: Sendable>(_ body: (CaseIndex) -> R) -> R { ingest.withCaseIndex(body) }
}

/// The service's own case state as a release sees it (``LiveCases``): the index behind its lock,
/// the projections cached between releases at one cutoff, and, on a shared store, the batches and
/// pins other replicas stored applied under the writer before the projection.
struct ServiceCases: LiveCases {
    let ingest: IngestService
    /// The case projection of recent cutoffs, reused while no event arrives: a steward's batch of
    /// releases at one cutoff (or a retry after `budget_exceeded`) evaluates the cases once.
    let projections: ProjectionCache? = ProjectionCache()

    func withMutableCaseIndex(_ body: (inout CaseIndex) -> Void) { ingest.withMutableCaseIndex(body) }

    func catchUp(holding writer: HeldWriter) async throws {
        // A SQLite store has one writer, this process: nothing can have been stored elsewhere.
        if ingest.database.isShared { try await ingest.catchUp(on: writer.db) }
    }

    func notePinned(releaseID: Int64) { ingest.notePinned(releaseID: releaseID) }
}
