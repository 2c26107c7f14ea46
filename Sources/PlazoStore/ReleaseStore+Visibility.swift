import Foundation
import GRDB

// Public releases (`docs/privacy-model.md` §7b): a published release the steward has opened to
// everyone. Its dashboards and its Data Package are readable without a token; a release that is
// not public keeps the roles (oversight for dashboards, researcher for tables).
//
// Making a release public is one-way: figures that anyone could read cannot be taken back by a
// flag. A mistake is undone by withdrawing the release, which hides it from every reader.

extension ReleaseStore {
    static let visibilityMigrations: [StoreMigration] = [
        StoreMigration("2026-12-releases-public") { db in
            try db.execute(sql: """
                CREATE TABLE release_public (
                    release_id INTEGER PRIMARY KEY REFERENCES release(id),
                    made_public_at DATETIME NOT NULL,
                    made_public_by TEXT NOT NULL CHECK (made_public_by <> '')
                );
                """)
            for op in ["UPDATE", "DELETE"] {
                try db.execute(sql: """
                    CREATE TRIGGER release_public_no_\(op.lowercased()) BEFORE \(op) ON release_public
                    BEGIN SELECT RAISE(ABORT, 'a public release stays public; withdraw it instead'); END
                    """)
            }
        }
    ]

    /// Opens a published release to everyone. Idempotent: a release already public stays as it
    /// was (its first opening is kept).
    ///
    /// - Throws: ``ReleaseStatusError/notFound(_:)`` for no such release,
    ///   ``ReleaseStatusError/invalidTransition(_:)`` for a withdrawn one.
    public func makePublic(releaseID: Int64, by who: String, at date: Date) async throws {
        try await database.write { db in
            guard let current = try await Self.status(db, releaseID: releaseID) else { throw ReleaseStatusError.notFound("no release \(releaseID)") }
            guard current == .published else {
                throw ReleaseStatusError.invalidTransition("release \(releaseID) is withdrawn; a withdrawn release cannot be made public")
            }
            try await db.execute(
                "INSERT INTO release_public (release_id, made_public_at, made_public_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                releaseID, date, who)
        }
    }

    /// The ids of the public releases (withdrawn ones included: callers combine this with the
    /// status, and a withdrawn release is shown to no one).
    public func publicReleaseIDs() async throws -> Set<Int64> {
        try await database.read { db in try await Self.publicReleaseIDs(db) }
    }

    static func publicReleaseIDs(_ db: any SQLConnection) async throws -> Set<Int64> {
        Set(try await db.column("SELECT release_id FROM release_public") as [Int64])
    }

    /// Every release's metadata row (oldest first) with its current status, and the ids of the
    /// public ones: what a reader's list and the dashboards choose from, in **one** read (one
    /// snapshot of the store, one hop to SQLite's reader or one PostgreSQL transaction per request).
    public func catalogue() async throws -> (rows: [ReleaseRow], statuses: [Int64: ReleaseStatus], publicIDs: Set<Int64>) {
        try await database.read { db in
            (try await Self.list(db), try await Self.statuses(db), try await Self.publicReleaseIDs(db))
        }
    }
}
