import GRDB

/// The ledger's tables: append-only (triggers refuse UPDATE and DELETE). Their place in the
/// store's one linear order is ``AppDatabase/migrationOrder``.
extension LedgerRows {
    /// The ledger's migrations (contributed to ``AppDatabase/migrations``).
    public static let migrations: [StoreMigration] = [
        StoreMigration("2026-11-privacy-ledger-v1") { db in
            try db.execute(sql: """
                CREATE TABLE privacy_budget_change (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    scope TEXT,                                   -- NULL: the default budget
                    rho_units INTEGER NOT NULL CHECK (rho_units >= 0),
                    rho_requested TEXT NOT NULL,                  -- exact rational as given
                    changed_at DATETIME NOT NULL,
                    changed_by TEXT NOT NULL CHECK (changed_by <> '')
                );
                CREATE INDEX privacy_budget_change_by_scope ON privacy_budget_change(scope, id);
                CREATE TABLE privacy_spend (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    spent_at DATETIME NOT NULL,
                    purpose TEXT NOT NULL CHECK (purpose <> ''),
                    requester TEXT NOT NULL CHECK (requester <> ''),
                    cost_kind TEXT NOT NULL CHECK (cost_kind IN ('zcdp', 'pure_dp')),
                    cost_value TEXT NOT NULL,                     -- exact rational ρ or ε
                    rho_units INTEGER NOT NULL CHECK (rho_units > 0)
                );
                CREATE TABLE privacy_spend_scope (
                    spend_id INTEGER NOT NULL REFERENCES privacy_spend(id),
                    scope TEXT NOT NULL,
                    PRIMARY KEY (spend_id, scope)
                ) WITHOUT ROWID;
                CREATE INDEX privacy_spend_scope_by_scope ON privacy_spend_scope(scope);
                """)
            for table in ["privacy_budget_change", "privacy_spend", "privacy_spend_scope"] {
                for op in ["UPDATE", "DELETE"] {
                    try db.execute(sql: """
                        CREATE TRIGGER \(table)_no_\(op.lowercased()) BEFORE \(op) ON \(table)
                        BEGIN SELECT RAISE(ABORT, 'the privacy ledger is append-only'); END
                        """)
                }
            }
        },
    ]

    /// The reason and old value of each budget change (the change rows themselves predate it).
    public static let historyMigrations: [StoreMigration] = [
        StoreMigration("2026-12-privacy-budget-reasons") { db in
            try db.execute(sql: """
                CREATE TABLE privacy_budget_reason (
                    change_id INTEGER PRIMARY KEY REFERENCES privacy_budget_change(id),
                    reason TEXT NOT NULL CHECK (reason <> ''),
                    previous_units INTEGER,                       -- NULL: no budget was set before
                    flags TEXT NOT NULL DEFAULT ''                -- comma-separated: raise, above_2
                );
                CREATE TRIGGER privacy_budget_reason_no_update BEFORE UPDATE ON privacy_budget_reason
                BEGIN SELECT RAISE(ABORT, 'the privacy ledger is append-only'); END;
                CREATE TRIGGER privacy_budget_reason_no_delete BEFORE DELETE ON privacy_budget_reason
                BEGIN SELECT RAISE(ABORT, 'the privacy ledger is append-only'); END;
                """)
        },
    ]
}
