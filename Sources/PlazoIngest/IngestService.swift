import Foundation
import Logging
import PlazoCases
import PlazoModel
import PlazoSodium
import PlazoStore
import PlazoWire
import Synchronization

/// Why a submission was refused as a whole. Every case has a stable ``code`` and a sentence; the
/// HTTP layer (PlazoServer) decides which status answers it.
public enum IngestError: Error, Sendable, CustomStringConvertible {
    /// The batch failed a step of the verification order (`specs/batch-format.md` §7).
    case batch(BatchError)
    /// A different batch with this id was already accepted.
    case batchIDReused(BatchID)
    /// The store failed; nothing was acknowledged.
    case storeUnavailable(String)

    /// The machine-readable reason code.
    public var code: String {
        switch self {
        case let .batch(error): error.code
        case .batchIDReused: "batch_id_reused"
        case .storeUnavailable: "store_unavailable"
        }
    }

    public var description: String {
        switch self {
        case let .batch(error): error.description
        case let .batchIDReused(id): "batch id \(id) was already used by a different batch"
        case let .storeUnavailable(reason): "the store is unavailable (\(reason)); the batch was not accepted, send it again"
        }
    }
}

/// An accepted (or replayed) batch's receipt.
public struct IngestResult: Sendable {
    /// The signed receipt.
    public let receipt: Receipt
    /// Its canonical bytes.
    public let receiptBytes: [UInt8]
    /// True when these exact bytes had been accepted before: nothing changed, the original
    /// receipt is returned.
    public let replayed: Bool
}

/// The receive pipeline. Follows the verification order of `specs/batch-format.md` §7, then
/// stores the batch as received and its signed receipt in one transaction, and only then updates
/// the in-memory case index and answers.
///
/// The batch log is the only durable form of the events: the case index lives in memory and is
/// rebuilt from the log when the service starts (``init(database:serviceKeys:retiredServiceKeys:receiptKey:timestampPolicy:clock:logger:)``).
public final class IngestService: Sendable {
    /// The store (batches; the HTTP API also keeps its tokens, ledger and releases here).
    public let database: AppDatabase
    /// The agency registry used for step 5.
    public let registry: AgencyRegistry
    /// The batch log.
    public let log: BatchLog
    let opener: BatchOpener
    let receiptKey: SigningKeyPair
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// The in-memory case index: the events of every stored batch, applied in acceptance order.
    let index: Mutex<CaseIndex>
    /// The case-index snapshot file, if this service keeps one (``writeSnapshot(ifChanged:)``).
    public let snapshotPath: String?
    /// What the start did with the snapshot.
    public let startupSnapshot: BatchLogReplay.SnapshotUse
    /// The box key new snapshots are encrypted under (the current one).
    let snapshotKey: BoxKeyPair?
    /// What the last snapshot written or loaded holds.
    let snapshotState: Mutex<SnapshotState>
    /// Held for the whole of a snapshot write, so that writes never overlap.
    let snapshotWrites = AsyncGate()
    /// How far this replica has applied the store: the last batch and the last release whose pins
    /// are in ``index``. Held while batches or pins stored elsewhere are applied (``catchUp(on:)``).
    let follow: Mutex<FollowState>
    /// Re-opens stored batches (no signature check: they were checked before they were stored).
    let storedOpener: BatchOpener
    /// The index's distinct cases and events as of its last change, set under its lock and read
    /// without it (``indexSize``), so that a metrics scrape never waits for a release's projection.
    let indexedCases = Atomic<Int>(0)
    let indexedEvents = Atomic<Int>(0)

    /// Opens the pipeline over a migrated store and rebuilds the case index from its batch log.
    ///
    /// - Parameters:
    ///   - serviceKeys: the box key pairs new batches may be sealed to (normally one).
    ///   - retiredServiceKeys: former box keys, used only to re-open stored batches at start-up:
    ///     a new batch sealed to one of them is refused (`unknown_service_key`). Between them, the
    ///     two lists must hold the key of every stored batch (keep a retired key as long as
    ///     batches sealed to it are stored).
    ///   - receiptKey: the service's Ed25519 key that signs receipts.
    ///   - timestampPolicy: allowed clock skew of batch creation times.
    ///   - clock: Unix seconds now (injectable for tests).
    ///   - snapshotPath: the case-index snapshot file (``IndexSnapshot/path(forStore:)``): when it
    ///     holds a usable snapshot, the start loads it and replays only the later batches (a
    ///     snapshot that cannot be used is logged as a warning and ignored), and
    ///     ``writeSnapshot(ifChanged:)`` writes there. nil: always replay the whole log.
    /// - Throws: ``BatchLogReplay/Failure`` when a stored batch cannot be re-opened.
    public init(
        database: AppDatabase, serviceKeys: [BoxKeyPair], retiredServiceKeys: [BoxKeyPair] = [], receiptKey: SigningKeyPair,
        timestampPolicy: TimestampPolicy = .standard,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "plazo.ingest"),
        snapshotPath: String? = nil
    ) async throws {
        self.database = database
        let registry = AgencyRegistry(database)
        self.registry = registry
        self.log = BatchLog(database)
        self.receiptKey = receiptKey
        self.clock = clock
        self.logger = logger
        // Step 5's registry lookup is asynchronous: ``submit(_:)`` looks the header's key up and
        // hands the answer to the opener (``BatchOpener/open(_:now:agencyKey:)``).
        self.opener = BatchOpener(serviceKeys: serviceKeys, timestampPolicy: timestampPolicy) { (_, keyID) throws(BatchError) in
            throw .unknownSigningKey(keyID)  // never asked: submit passes the lookup's answer
        }
        self.storedOpener = BatchOpener(serviceKeys: serviceKeys + retiredServiceKeys, timestampPolicy: .none) { (_, keyID) throws(BatchError) in
            throw .unknownSigningKey(keyID)  // never asked: openStored does not authenticate
        }
        // Pins are derived state: re-applied from the stored releases at their batch watermarks
        // (or loaded with the snapshot, for the releases it saw). The pin points and the end of
        // the replay are read in one snapshot of the store: on PostgreSQL other replicas may be
        // writing, and what they add after it is applied by `catchUp(on:)`, in order.
        let (pinPoints, logEnd) = try await database.read { db in
            await (try ReleaseStore.pinPoints(in: db), try BatchLog.lastSeq(db))
        }
        let replayed: (index: CaseIndex, lastBatch: Int64, snapshot: BatchLogReplay.SnapshotUse)
        if database.keepsLocalSnapshot {
            replayed = try await BatchLogReplay.replay(
                log, serviceKeys: serviceKeys + retiredServiceKeys, pinPoints: pinPoints, snapshotPath: snapshotPath)
        } else {
            let r = try await BatchLogReplay.replay(log, serviceKeys: serviceKeys + retiredServiceKeys, pinPoints: pinPoints, throughBatch: logEnd)
            replayed = (r.index, r.lastBatch, .none)
        }
        self.follow = Mutex(FollowState(appliedSeq: replayed.lastBatch, lastReleaseID: pinPoints.map(\.releaseID).max() ?? 0))
        self.index = Mutex(replayed.index)
        indexedCases.store(replayed.index.caseCount, ordering: .relaxed)
        indexedEvents.store(replayed.index.eventCount, ordering: .relaxed)
        self.snapshotPath = snapshotPath
        self.startupSnapshot = replayed.snapshot
        self.snapshotKey = serviceKeys.first
        var state = SnapshotState(startedAt: ContinuousClock.now)
        if case let .loaded(start) = replayed.snapshot {
            // The file holds the state at its watermark: later batches and releases are news.
            state.watermark = start.watermark
            state.pinPoints = start.pinPointsApplied
            state.events = start.events
        }
        self.snapshotState = Mutex(state)
        switch replayed.snapshot {
        case .refused: logger.warning("case-index snapshot not used", metadata: ["reason": "\(replayed.snapshot)"])
        case .loaded, .missing: logger.info("case-index snapshot", metadata: ["snapshot": "\(replayed.snapshot)"])
        case .none: break
        }
    }

    /// Stored batches, and distinct events and cases in the case index.
    public func counts() async throws -> (batches: Int, events: Int, cases: Int) {
        let (events, cases) = index.withLock { ($0.eventCount, $0.caseCount) }
        return (try await log.batchCount(), events, cases)
    }

    /// Distinct cases and events in the case index, as of its last change; never waits for the
    /// index lock (`plazo_index_cases` and `plazo_index_events` on `/metrics`).
    public var indexSize: (cases: Int, events: Int) {
        (indexedCases.load(ordering: .relaxed), indexedEvents.load(ordering: .relaxed))
    }

    /// Records the index's size; called holding its lock, after every change.
    func noteSize(of index: CaseIndex) {
        indexedCases.store(index.caseCount, ordering: .relaxed)
        indexedEvents.store(index.eventCount, ordering: .relaxed)
    }

    /// Receives one batch.
    public func submit(_ bytes: [UInt8]) async throws(IngestError) -> IngestResult {
        let now = clock()
        // Steps 1–3: sizes and header.
        let header: BatchHeader
        do { header = try BatchHeader.parse(bytes) } catch { throw .batch(error) }

        // Replays first: the very same bytes were authenticated when first accepted, so the
        // original receipt is returned even if the key has been rotated or the batch is now old.
        let digest = Receipt.digest(of: bytes)
        do {
            if case let .sameBytes(stored) = try await log.lookup(batchID: header.batchID, digest: digest) {
                return try replay(stored)
            }
        } catch let error as IngestError { throw error } catch { throw .storeUnavailable(String(describing: error)) }

        // Steps 4–9: authenticate, open, decode, validate (the verification order of BatchOpener).
        // The registry's answer for step 5 is read first and reported in its place in that order.
        let agencyKey: Result<SigningPublicKey, BatchError>
        do { agencyKey = .success(try await registry.signingKey(agencyID: header.agencyID, keyID: header.signingKeyID)) } catch {
            agencyKey = .failure(error)
        }
        let opened: OpenedBatch
        do { opened = try opener.open(bytes, now: now, agencyKey: { (_, _) throws(BatchError) in try agencyKey.get() }) } catch {
            throw .batch(error)
        }
        let events = opened.events
        let rejected = opened.rejected.map { Receipt.RejectedRecord(index: UInt32($0.index), reason: RecordReason($0.error)) }

        // One transaction: the batch as received and its receipt. New events are counted against
        // the index inside the store's serialised write, and the batch is applied to the index
        // right after its commit, before any other batch's count: the count in each receipt is
        // the one a replay of the log in acceptance order gives (`plazo rebuild` checks it).
        let outcome: CommitOutcome
        var signed: Receipt?
        let agency = header.agencyID
        let following = database.isShared
        do {
            outcome = try await log.commit(
                bytes: bytes, digest: digest, header: header, receivedAt: now, accepted: events.count,
                beforeCount: { db in
                    // Several replicas: the batches others stored first are applied before this
                    // one is counted, so its receipt counts new events against the whole log.
                    if following { try await catchUp(on: db) }
                },
                makeReceipt: {
                    let newEvents = index.withLock { index in index.preview(events) }.reduce(0) { $0 + ($1 == .new ? 1 : 0) }
                    var receipt = Receipt(
                        batchID: header.batchID, batchDigest: digest, agencyID: header.agencyID, receivedAt: now,
                        recordCount: header.recordCount, accepted: UInt32(events.count), newEvents: UInt32(newEvents),
                        rejected: rejected, serviceKeyID: KeyID.of(receiptKey.publicKey)
                    )
                    try receipt.sign(with: receiptKey)
                    signed = receipt
                    return (receipt.encoded(), newEvents)
                },
                afterCommit: { seq in
                    // Every accepted event is applied, not only the new ones: a duplicate from a
                    // smaller agency id moves the attribution, as a replay of the log does.
                    follow.withLock { state in
                        index.withLock { index in
                            _ = index.apply(events, from: agency)
                            noteSize(of: index)
                        }
                        state.appliedSeq = seq
                    }
                }
            )
        } catch let error as BatchLogReplay.Failure {
            logger.error("a batch stored by another replica cannot be opened", metadata: ["error": "\(error)"])
            throw .storeUnavailable("this replica cannot read the batch log")
        } catch {
            logger.error("batch could not be stored", metadata: ["batch.id": "\(header.batchID)", "error": "\(error)"])
            throw .storeUnavailable("write failed")
        }

        switch outcome {
        case let .stored(receiptBytes):
            return IngestResult(receipt: signed!, receiptBytes: receiptBytes, replayed: false)
        case let .replay(receiptBytes):
            return try replay(receiptBytes)
        case .conflict:
            throw .batchIDReused(header.batchID)
        }
    }

    private func replay(_ stored: [UInt8]) throws(IngestError) -> IngestResult {
        guard let receipt = try? Receipt.parse(stored) else { throw .storeUnavailable("stored receipt unreadable") }
        return IngestResult(receipt: receipt, receiptBytes: stored, replayed: true)
    }

    /// Reads the case index while holding its lock: ingest applies no batch meanwhile.
    ///
    /// `body` should be quick or rare. A release's projection (about 0.7 s at 10 million cases)
    /// holds ingest back for that long, which is the cheaper choice: handing out a copy-on-write
    /// snapshot instead would make the next batch applied during the projection copy the whole
    /// index (about 1 GB at 10 million cases) and hold both in memory.
    public func withCaseIndex<R: Sendable>(_ body: (CaseIndex) -> R) -> R {
        index.withLock { index in body(index) }
    }

    /// Mutable access to the case index under its lock, for the release path's pinning. The
    /// caller must hold the store's writer (``AppDatabase/writer``) first, the order ingest uses
    /// (a batch is applied inside the writer, after its commit), so that no batch is applied
    /// between the release's projection and its pinning.
    public func withMutableCaseIndex(_ body: (inout CaseIndex) -> Void) {
        index.withLock { index in
            body(&index)
            noteSize(of: index)
        }
    }

    /// The quality report and worklists of one agency (``AgencyQualityReport``): its own events
    /// only, evaluated as of `cutoff`, with the records its receipts rejected.
    public func qualityReport(agency: AgencyID, asOf cutoff: Day, limit: Int = 500) async throws -> AgencyQualityReport {
        var report = withCaseIndex { $0.qualityReport(agency: agency, asOf: cutoff, limit: limit) }
        report.rejectedAtIngest = try await BatchLog(database).rejectedRecordCounts(agencyID: agency)
        return report
    }
}

/// How far a service has applied the store to its case index.
struct FollowState {
    /// The acceptance number of the last batch applied (0: none).
    var appliedSeq: Int64
    /// The id of the last release whose pins are applied (0: none).
    var lastReleaseID: Int64
}

extension IngestService {
    // MARK: Several replicas

    /// Applies to the case index what other replicas stored since this one last looked: every
    /// batch after ``appliedBatch``, in acceptance order, and the pins of every new release right
    /// after the batch it names as its watermark (the order a start-up replay uses), read on `db`.
    ///
    /// Called holding the store's writer before a batch is counted and before a release is
    /// projected (so both see the whole log), and by ``followStore()`` between requests. On a
    /// single SQLite process there is never anything to apply.
    ///
    /// - Returns: the number of batches applied.
    @discardableResult
    public func catchUp(on db: any SQLConnection) async throws -> Int {
        // What this replica has applied; the store is read without holding `follow`, and each
        // batch is applied under it only if no other caller (the follower, a commit's count)
        // applied it meanwhile: batches by acceptance number, pins by release id, each once and in
        // the order a start-up replay uses.
        let start = follow.withLock { $0 }
        // Most looks find nothing new: one statement says so.
        let heads = try await BatchLog.heads(db)
        if heads.lastBatch <= start.appliedSeq && heads.lastPinningRelease <= start.lastReleaseID { return 0 }
        var applied = 0
        var pending = try await ReleaseStore.pinPoints(in: db, afterRelease: start.lastReleaseID)[...]
        func pinThrough(_ seq: Int64, _ state: inout FollowState) {
            while let p = pending.first, p.batchWatermark <= seq {
                if p.releaseID > state.lastReleaseID {
                    index.withLock { index in BatchLogReplay.apply(p, to: &index) }
                    state.lastReleaseID = p.releaseID
                }
                pending = pending.dropFirst()
            }
        }
        follow.withLock { state in pinThrough(state.appliedSeq, &state) }
        var cursor = start.appliedSeq
        while true {
            let page = try await BatchLog.page(db, after: cursor, limit: 64)
            if page.isEmpty { break }
            for batch in page {
                cursor = batch.seq
                if batch.seq <= follow.withLock({ $0.appliedSeq }) { continue }
                let opened: OpenedBatch
                do { opened = try storedOpener.openStored(batch.bytes, receivedAt: batch.receivedAt) } catch {
                    throw BatchLogReplay.Failure.batchUnreadable(seq: batch.seq, reason: "\(error)")
                }
                follow.withLock { state in
                    guard batch.seq > state.appliedSeq else { return }
                    pinThrough(state.appliedSeq, &state)
                    index.withLock { index in
                        _ = index.apply(opened.events, from: batch.agencyID)
                        noteSize(of: index)
                    }
                    state.appliedSeq = batch.seq
                    applied += 1
                    pinThrough(batch.seq, &state)
                }
            }
        }
        follow.withLock { state in pinThrough(state.appliedSeq, &state) }
        return applied
    }

    /// ``catchUp(on:)`` on a read snapshot of the store: what a replica runs between requests so
    /// that its dashboards and quality reports follow the batches other replicas accept.
    @discardableResult
    public func followStore() async throws -> Int {
        try await database.read { db in try await catchUp(on: db) }
    }

    /// Records that this service pinned release `id` itself (the release path, holding the
    /// writer), so that following the store does not apply its pins a second time.
    public func notePinned(releaseID id: Int64) {
        follow.withLock { state in state.lastReleaseID = max(state.lastReleaseID, id) }
    }

    /// The acceptance number of the last batch in this service's case index.
    public var appliedBatch: Int64 { follow.withLock { $0.appliedSeq } }
}
