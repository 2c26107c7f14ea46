import GRDB

extension AppDatabase {
    /// The shipped order of every schema step, by identifier: **one linear, append-only list**.
    /// A new migration is defined beside its feature and its identifier appended at the end here;
    /// a shipped entry is never removed, edited or moved. (Concatenating per-feature lists, as
    /// before, put a feature's new step in the middle of the global order.) `MigrationTests`
    /// checks that every feature's migrations are listed once, and that a store upgraded from every
    /// earlier point of this list has exactly the schema of a fresh one.
    public static let migrationOrder: [String] = [
        "2026-11-privacy-ledger-v1",
        "v1-agency-registry",
        "v1-batch-log",
        "v2-drop-case-event",
        "v1-api-tokens",
        "2026-11-releases-v1",
        "2026-12-releases-v2-pins-status",
        "2026-12-privacy-budget-reasons",
        "2026-12-releases-public",
        "2026-12-continual-streams",
        "2026-12-batch-by-agency",
    ]

    /// Every feature's migrations, wherever they are defined (order irrelevant here).
    static let featureMigrations: [StoreMigration] =
        LedgerRows.migrations + AgencyRegistry.migrations + BatchLog.migrations + TokenStore.migrations
        + ReleaseStore.migrations + ReleaseStore.pinMigrations + LedgerRows.historyMigrations
        + ReleaseStore.visibilityMigrations + ReleaseStore.continualMigrations

    /// Every migration of the store, in ``migrationOrder``.
    public static let migrations: [StoreMigration] = migrationOrder.map { id in
        guard let migration = featureMigrations.first(where: { $0.identifier == id }) else {
            preconditionFailure("migration \(id) is listed in migrationOrder but defined by no feature")
        }
        return migration
    }
}
