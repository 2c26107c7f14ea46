import Foundation
import GRDB

/// Where a stored release pinned cohorts: its cutoff, its cohorts and the batch watermark its
/// projection saw (`docs/privacy-model.md` §4). The start-up replay re-applies the pinning of each
/// release right after applying the batch with `seq == batchWatermark`.
public struct ReleasePinPoint: Sendable, Hashable {
    /// The release id (pinning order among releases with one watermark).
    public var releaseID: Int64
    /// The acceptance number (`batch.seq`) of the last batch the projection saw; 0 = none.
    public var batchWatermark: Int64
    /// The cutoff, `YYYY-MM-DD`.
    public var cutoff: String
    /// The cohorts released (`2024Q1`, …).
    public var cohorts: [String]
    /// The cohorts whose continual-release stream this release stepped, with the step
    /// (`docs/privacy-model.md` §4a): re-applied to the case index after the pins.
    public var continualSteps: [String: Int]

    /// A pin point as ``ReleaseStore/pinPoints()`` reads it.
    public init(releaseID: Int64, batchWatermark: Int64, cutoff: String, cohorts: [String], continualSteps: [String: Int] = [:]) {
        self.releaseID = releaseID
        self.batchWatermark = batchWatermark
        self.cutoff = cutoff
        self.cohorts = cohorts
        self.continualSteps = continualSteps
    }
}

/// Where a release that pins cohorts is in the log, and what it writes beside its row in the same
/// transaction (``ReleaseStore/insert(in:spendID:requester:title:cutoff:cohorts:totalRho:codeVersion:pinning:at:document:)``).
public struct ReleasePinning: Sendable, Hashable {
    /// The acceptance number of the last batch its projection saw (0: none).
    public var batchWatermark: Int64
    /// The draft it publishes, if any.
    public var draftID: Int64?
    /// The continual-release steps it drew (`docs/privacy-model.md` §4a).
    public var continualSteps: [ContinualStepRow]

    /// A pinning.
    public init(batchWatermark: Int64, draftID: Int64?, continualSteps: [ContinualStepRow] = []) {
        self.batchWatermark = batchWatermark
        self.draftID = draftID
        self.continualSteps = continualSteps
    }
}

/// What a release was computed from, read at its batch watermark.
public struct ReleaseInputs: Sendable, Hashable {
    /// The acceptance number of the last batch applied to the case state (0: no batch yet).
    public var batchWatermark: Int64
    /// Batches with `seq <= batchWatermark`.
    public var batches: Int
    /// Distinct agencies among them.
    public var agencies: Int
}

extension ReleaseStore {
    /// The batch watermark of each release and the status history of releases and drafts.
    public static let pinMigrations: [StoreMigration] = [
        StoreMigration("2026-12-releases-v2-pins-status") { db in
            // NULL for releases stored before pins existed: they pinned nothing (see the privacy model).
            try db.execute(sql: """
                ALTER TABLE release ADD COLUMN batch_seq INTEGER;
                CREATE TABLE release_draft (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    created_at DATETIME NOT NULL,
                    requester TEXT NOT NULL CHECK (requester <> ''),
                    title TEXT NOT NULL,
                    spec BLOB NOT NULL
                );
                CREATE TABLE release_status (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    release_id INTEGER REFERENCES release(id),
                    draft_id INTEGER REFERENCES release_draft(id),
                    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn')),
                    changed_at DATETIME NOT NULL,
                    changed_by TEXT NOT NULL CHECK (changed_by <> ''),
                    reason TEXT,
                    CHECK (release_id IS NOT NULL OR draft_id IS NOT NULL)
                );
                CREATE INDEX release_status_by_release ON release_status(release_id, id);
                CREATE INDEX release_status_by_draft ON release_status(draft_id, id);
                """)
            for table in ["release_draft", "release_status"] {
                for op in ["UPDATE", "DELETE"] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_no_\(op.lowercased()) BEFORE \(op) ON \(table)
                        BEGIN SELECT RAISE(ABORT, 'release history is append-only'); END
                        """)
                }
            }
        },
    ]

    /// The batch watermark and input counts as seen by `db` (call it inside the writer, so that no
    /// batch commits between this read and the projection of the case state).
    public static func inputs(in db: any SQLConnection) async throws -> ReleaseInputs {
        guard let r = try await db.row(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) AS w, count(*) AS b, count(DISTINCT agency_id) AS a FROM batch")
        else { return ReleaseInputs(batchWatermark: 0, batches: 0, agencies: 0) }
        return ReleaseInputs(batchWatermark: try r["w"], batches: try r["b"], agencies: try r["a"])
    }

    /// Every release that pinned cohorts, in pinning order (watermark, then id).
    public func pinPoints() async throws -> [ReleasePinPoint] {
        try await database.read { db in try await Self.pinPoints(in: db) }
    }

    /// The same on a connection the caller holds; with `afterRelease`, only releases with a larger id.
    public static func pinPoints(in db: any SQLConnection, afterRelease: Int64 = 0) async throws -> [ReleasePinPoint] {
        let steps = try await continualStepsByRelease(in: db)
        return try await db.rows(
            "SELECT id, batch_seq, cutoff, cohorts FROM release WHERE batch_seq IS NOT NULL AND id > ? ORDER BY batch_seq, id", afterRelease
        ).map { r in
            let cohorts: String = try r["cohorts"]
            let id: Int64 = try r["id"]
            return ReleasePinPoint(
                releaseID: id, batchWatermark: try r["batch_seq"], cutoff: try r["cutoff"],
                cohorts: cohorts.split(separator: ",").map(String.init), continualSteps: steps[id] ?? [:])
        }
    }
}

/// The store's writer while the release path holds it: no batch commits (so none is applied to
/// the case index) and no other release is stored until the body returns. Valid only inside
/// ``ReleaseStore/withWriter(_:)``.
public struct HeldWriter {
    /// The writer's connection (valid only inside ``ReleaseStore/withWriter(_:)``).
    public let db: any SQLConnection

    /// The batch watermark and input counts now.
    public func inputs() async throws -> ReleaseInputs { try await ReleaseStore.inputs(in: db) }

    /// Every release that pinned cohorts, in pinning order, now (``ReleaseStore/pinPoints()``).
    public func pinPoints() async throws -> [ReleasePinPoint] { try await ReleaseStore.pinPoints(in: db) }

    /// Every stored step of the continual-release streams of `cohorts`.
    public func continualSteps(cohorts: [String]) async throws -> [ContinualStepRow] {
        try await ReleaseStore.continualSteps(in: db, cohorts: cohorts)
    }
}

extension ReleaseStore {
    /// Runs `body` holding the store's writer (``AppDatabase/writeLocked(_:)``: on SQLite GRDB
    /// serialises writers within the process and the transaction the release path opens on
    /// ``HeldWriter/db`` to debit and store a release is `IMMEDIATE`, which serialises it against
    /// other processes too; on PostgreSQL the writer lock is held at session level for the whole
    /// body, across every replica).
    public func withWriter<T>(_ body: (HeldWriter) async throws -> T) async throws -> T {
        try await database.writeLocked { db in try await body(HeldWriter(db: db)) }
    }
}
