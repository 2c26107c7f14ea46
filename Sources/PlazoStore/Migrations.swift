import GRDB

extension AppDatabase {
    /// Every migration of the store, in order. Each feature defines its own in its own file (as a
    /// static list, like ``BudgetLedger/migrations``) and is appended here. Append only: never
    /// remove, edit or reorder a shipped entry.
    public static let migrations: [StoreMigration] =
        BudgetLedger.migrations
        + AgencyRegistry.migrations
        + BatchLog.migrations
        + TokenStore.migrations
        + ReleaseStore.migrations
        + ReleaseStore.pinMigrations
        + BudgetLedger.historyMigrations
}
