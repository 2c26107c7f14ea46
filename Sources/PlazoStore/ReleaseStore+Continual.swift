import Foundation
import GRDB

/// One step of one cohort's continual-release stream for one table (`docs/privacy-model.md` §4a):
/// the **noisy, published** encoded values the release drew at that step, kept so that later
/// releases decode from them (and never contradict them), and the stream's fixed parameters.
/// Nothing here is un-noised: these numbers are also in the release's document.
public struct ContinualStepRow: Sendable, Hashable {
    /// The cohort (`2025Q1`).
    public var cohort: String
    /// The table (`charge_by_horizon|state`: kind, then breakdown dimensions).
    public var tableKey: String
    /// The step, 1 … horizon.
    public var step: Int
    /// The release that drew it.
    public var releaseID: Int64
    /// The stream's number of releases T (fixed at its first step).
    public var horizon: Int
    /// The stream's lifetime ρ, exact (fixed at its first step).
    public var lifetimeRho: String
    /// The encoded noisy values wₖ of every streamed cell (JSON array of integers).
    public var encoded: String
    /// At step 1 only: the noisy cohort sizes, one per breakdown group (JSON array), else nil.
    public var sizes: String?

    /// A row.
    public init(
        cohort: String, tableKey: String, step: Int, releaseID: Int64, horizon: Int, lifetimeRho: String, encoded: String,
        sizes: String?
    ) {
        self.cohort = cohort
        self.tableKey = tableKey
        self.step = step
        self.releaseID = releaseID
        self.horizon = horizon
        self.lifetimeRho = lifetimeRho
        self.encoded = encoded
        self.sizes = sizes
    }
}

extension ReleaseStore {
    /// The SQLite schema of the stream steps. Append-only, like the releases they belong to.
    static let continualMigrations: [StoreMigration] = [
        StoreMigration("2026-12-continual-streams") { db in
            try db.execute(sql: """
                CREATE TABLE continual_step (
                    cohort TEXT NOT NULL,
                    table_key TEXT NOT NULL,
                    step INTEGER NOT NULL CHECK (step BETWEEN 1 AND 31),
                    release_id INTEGER NOT NULL REFERENCES release(id),
                    horizon INTEGER NOT NULL CHECK (horizon BETWEEN 1 AND 31),
                    lifetime_rho TEXT NOT NULL,
                    encoded TEXT NOT NULL,
                    sizes TEXT,
                    PRIMARY KEY (cohort, table_key, step)
                );
                CREATE INDEX continual_step_by_release ON continual_step(release_id);
                """)
            for op in ["UPDATE", "DELETE"] {
                try db.execute(sql: """
                    CREATE TRIGGER continual_step_no_\(op.lowercased()) BEFORE \(op) ON continual_step
                    BEGIN SELECT RAISE(ABORT, 'continual release steps are immutable'); END
                    """)
            }
        }
    ]

    /// Every stored step of the streams of `cohorts` (a read: dry runs and drafts).
    public func continualSteps(cohorts: [String]) async throws -> [ContinualStepRow] {
        try await database.read { db in try await Self.continualSteps(in: db, cohorts: cohorts) }
    }

    /// Every stored step of the streams of `cohorts`, by cohort, table and step.
    static func continualSteps(in db: any SQLConnection, cohorts: [String]) async throws -> [ContinualStepRow] {
        guard !cohorts.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: cohorts.count).joined(separator: ", ")
        return try await db.fetchAll(
            "SELECT * FROM continual_step WHERE cohort IN (\(marks)) ORDER BY cohort, table_key, step",
            cohorts.map { SQLValue.text($0) }
        ).map(Self.continualRow)
    }

    static func continualRow(_ r: SQLRow) throws -> ContinualStepRow {
        ContinualStepRow(
            cohort: try r["cohort"], tableKey: try r["table_key"], step: Int(try r["step"] as Int64), releaseID: try r["release_id"],
            horizon: Int(try r["horizon"] as Int64), lifetimeRho: try r["lifetime_rho"], encoded: try r["encoded"], sizes: try r["sizes"] as String?)
    }

    /// Release id → (cohort → step) for every release that stepped a stream: what the start-up
    /// replay re-applies to the case index beside the pins.
    static func continualStepsByRelease(in db: any SQLConnection) async throws -> [Int64: [String: Int]] {
        var out: [Int64: [String: Int]] = [:]
        for r in try await db.rows("SELECT DISTINCT release_id, cohort, step FROM continual_step") {
            let id: Int64 = try r["release_id"]
            let step: Int64 = try r["step"]
            out[id, default: [:]][try r["cohort"]] = Int(step)
        }
        return out
    }

    /// Inserts the steps a release drew (inside its transaction).
    static func insertContinualSteps(_ rows: [ContinualStepRow], releaseID: Int64, in db: any SQLConnection) async throws {
        for r in rows {
            try await db.execute(
                """
                INSERT INTO continual_step (cohort, table_key, step, release_id, horizon, lifetime_rho, encoded, sizes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                r.cohort, r.tableKey, Int64(r.step), releaseID, Int64(r.horizon), r.lifetimeRho, r.encoded, r.sizes)
        }
    }
}
