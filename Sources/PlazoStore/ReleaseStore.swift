import Foundation
import GRDB
import PlazoPrivacy

/// Indexed metadata of a stored release (the document itself is an opaque blob owned by
/// `PlazoReleases`, which this module does not import).
public struct ReleaseRow: Sendable, Hashable, Codable {
    /// The release id (increasing).
    public var id: Int64
    /// When it was created.
    public var createdAt: Date
    /// Who asked.
    public var requester: String
    /// The title.
    public var title: String
    /// The data cutoff, `YYYY-MM-DD`.
    public var cutoff: String
    /// The cohorts, sorted (`2024Q1`, …).
    public var cohorts: [String]
    /// The total ρ charged to each cohort, exact (`"1/16"`).
    public var totalRho: String
    /// The ledger spend that paid for it.
    public var spendID: Int64
    /// The code version that computed it.
    public var codeVersion: String
}

/// Immutable storage of releases: one row per release with its document, written in the **same
/// transaction** as its ledger spend, so a release exists if and only if its budget was debited.
/// Rows are append-only (triggers refuse UPDATE and DELETE): a release is never re-noised or edited.
public struct ReleaseStore: Sendable {
    /// The database.
    public let database: AppDatabase

    /// A store on `database`.
    public init(_ database: AppDatabase) { self.database = database }

    /// The release tables (contributed to ``AppDatabase/migrations``).
    public static let migrations: [StoreMigration] = [
        StoreMigration("2026-11-releases-v1") { db in
            try db.execute(sql: """
                CREATE TABLE release (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    created_at DATETIME NOT NULL,
                    requester TEXT NOT NULL CHECK (requester <> ''),
                    title TEXT NOT NULL,
                    cutoff TEXT NOT NULL,
                    cohorts TEXT NOT NULL,             -- comma-separated, sorted
                    total_rho TEXT NOT NULL,           -- exact rational
                    spend_id INTEGER NOT NULL UNIQUE REFERENCES privacy_spend(id),
                    code_version TEXT NOT NULL,
                    document BLOB NOT NULL
                );
                CREATE INDEX release_by_cutoff ON release(cutoff, id);
                CREATE TRIGGER release_no_update BEFORE UPDATE ON release
                BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
                CREATE TRIGGER release_no_delete BEFORE DELETE ON release
                BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
                """)
        },
    ]

    /// Debits `spend` and stores the release in one write transaction. If any scope lacks
    /// budget, throws ``LedgerError/budgetExceeded(_:)`` and writes nothing. `document` receives the
    /// new release id and spend before it is serialised, so the stored bytes can name them.
    public func create(
        spend: SpendRequest, title: String, cutoff: String, cohorts: [String], totalRho: String,
        codeVersion: String, at date: Date, document: (_ id: Int64, _ entry: LedgerEntry) throws -> [UInt8]
    ) throws -> ReleaseRow {
        try database.write { db in
            try Self.insert(
                in: db, spend: spend, title: title, cutoff: cutoff, cohorts: cohorts, totalRho: totalRho,
                codeVersion: codeVersion, batchWatermark: nil, at: date, document: document)
        }
    }

    /// Debits `spend` and inserts the release row, inside the caller's transaction: the one insert
    /// behind both ``create(spend:title:cutoff:cohorts:totalRho:codeVersion:at:document:)`` and the
    /// pinned ``create(in:spend:title:cutoff:cohorts:totalRho:codeVersion:batchWatermark:draftID:at:document:)``.
    /// `batchWatermark` is NULL for a release that pins nothing.
    static func insert(
        in db: any SQLConnection, spend: SpendRequest, title: String, cutoff: String, cohorts: [String], totalRho: String,
        codeVersion: String, batchWatermark: Int64?, at date: Date,
        document: (_ id: Int64, _ entry: LedgerEntry) throws -> [UInt8]
    ) throws -> ReleaseRow {
        let entry = try BudgetLedger.spend(spend, in: db, at: date)
        // The next id, read inside the writer's transaction (no other release can be stored until it
        // commits). Releases are never deleted (a trigger refuses it), so the largest id is the last.
        let last: Int64 = try db.scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM release") ?? 0
        let next = last + 1
        let bytes = try document(next, entry)
        try db.execute(
            """
            INSERT INTO release (id, created_at, requester, title, cutoff, cohorts, total_rho, spend_id, code_version, document, batch_seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            next, date, spend.requester, title, cutoff, cohorts.joined(separator: ","), totalRho, entry.id, codeVersion, bytes,
            batchWatermark)
        return ReleaseRow(id: next, createdAt: date, requester: spend.requester, title: title, cutoff: cutoff,
                          cohorts: cohorts, totalRho: totalRho, spendID: entry.id, codeVersion: codeVersion)
    }

    /// Every release's metadata, oldest first.
    public func list() throws -> [ReleaseRow] {
        try database.read { db in
            try db.rows("""
                SELECT id, created_at, requester, title, cutoff, cohorts, total_rho, spend_id, code_version
                FROM release ORDER BY id
                """).map(Self.row)
        }
    }

    /// One release's metadata and document, or nil.
    public func fetch(id: Int64) throws -> (row: ReleaseRow, document: [UInt8])? {
        try database.read { db in
            guard let r = try db.row("SELECT * FROM release WHERE id = ?", id) else { return nil }
            return (try Self.row(r), try r["document"])
        }
    }

    /// What a release was computed from: the number of batches held and of distinct agencies that sent them.
    public func inputCounts() throws -> (batches: Int, agencies: Int) {
        let inputs = try database.read { db in try Self.inputs(in: db) }
        return (inputs.batches, inputs.agencies)
    }

    static func row(_ r: SQLRow) throws -> ReleaseRow {
        let cohorts: String = try r["cohorts"]
        return ReleaseRow(
            id: try r["id"], createdAt: try r["created_at"], requester: try r["requester"], title: try r["title"],
            cutoff: try r["cutoff"], cohorts: cohorts.split(separator: ",").map(String.init), totalRho: try r["total_rho"],
            spendID: try r["spend_id"], codeVersion: try r["code_version"])
    }
}
