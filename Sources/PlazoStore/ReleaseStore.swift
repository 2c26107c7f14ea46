import Foundation
import GRDB

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
/// transaction** as its ledger spend (which the caller debits: ``insert(in:spendID:requester:title:cutoff:cohorts:totalRho:codeVersion:pinning:at:document:)``),
/// so a release exists if and only if its budget was debited.
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

    /// Inserts a release's rows inside the caller's write transaction, which has already debited
    /// the release's ledger spend (`spendID`): the release row, and for a release that pins
    /// (`pinning`) its batch watermark, its first status (published, linked to the draft it
    /// publishes) and the continual-release steps it drew. `document` receives the new release id
    /// before it is serialised, so the stored bytes can name it.
    ///
    /// The debit is the caller's (`PlazoReleases`, with the ledger's rules from `PlazoLedger`): the
    /// store only writes rows. Both commit together or not at all, so a release exists if and only
    /// if its budget was debited.
    public static func insert(
        in db: any SQLConnection, spendID: Int64, requester: String, title: String, cutoff: String, cohorts: [String],
        totalRho: String, codeVersion: String, pinning: ReleasePinning? = nil, at date: Date,
        document: (_ id: Int64) throws -> [UInt8]
    ) async throws -> ReleaseRow {
        // The next id, read inside the writer's transaction (no other release can be stored until it
        // commits). Releases are never deleted (a trigger refuses it), so the largest id is the last.
        let last: Int64 = try await db.scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM release") ?? 0
        let next = last + 1
        let bytes = try document(next)
        try await db.execute(
            """
            INSERT INTO release (id, created_at, requester, title, cutoff, cohorts, total_rho, spend_id, code_version, document, batch_seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            next, date, requester, title, cutoff, cohorts.joined(separator: ","), totalRho, spendID, codeVersion, bytes,
            pinning?.batchWatermark)
        if let pinning {
            try await db.execute(
                "INSERT INTO release_status (release_id, draft_id, status, changed_at, changed_by) VALUES (?, ?, 'published', ?, ?)",
                next, pinning.draftID, date, requester)
            try await insertContinualSteps(pinning.continualSteps, releaseID: next, in: db)
        }
        return ReleaseRow(id: next, createdAt: date, requester: requester, title: title, cutoff: cutoff,
                          cohorts: cohorts, totalRho: totalRho, spendID: spendID, codeVersion: codeVersion)
    }

    /// Every release's metadata, oldest first.
    public func list() async throws -> [ReleaseRow] {
        try await database.read { db in try await Self.list(db) }
    }

    static func list(_ db: any SQLConnection) async throws -> [ReleaseRow] {
        try await db.rows("""
            SELECT id, created_at, requester, title, cutoff, cohorts, total_rho, spend_id, code_version
            FROM release ORDER BY id
            """).map(Self.row)
    }

    /// One release's metadata and document, or nil.
    public func fetch(id: Int64) async throws -> (row: ReleaseRow, document: [UInt8])? {
        try await database.read { db in
            guard let r = try await db.row("SELECT * FROM release WHERE id = ?", id) else { return nil }
            return (try Self.row(r), try r["document"])
        }
    }

    /// What a release was computed from: the number of batches held and of distinct agencies that sent them.
    public func inputCounts() async throws -> (batches: Int, agencies: Int) {
        let inputs = try await database.read { db in try await Self.inputs(in: db) }
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
