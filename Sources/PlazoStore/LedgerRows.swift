import Foundation

/// One spend as stored: a `privacy_spend` row with the scopes `privacy_spend_scope` names for it.
public struct LedgerSpendRow: Sendable, Hashable {
    /// Sequence number, increasing in commit order.
    public var id: Int64
    /// When it was recorded (stored to the millisecond).
    public var spentAt: Date
    /// The stated purpose.
    public var purpose: String
    /// Who asked.
    public var requester: String
    /// `zcdp` or `pure_dp` (the table's CHECK).
    public var costKind: String
    /// The exact rational ρ or ε, as text.
    public var costValue: String
    /// What each scope was charged, in ledger units (> 0).
    public var units: Int64
    /// The scopes charged, in their stored text, sorted.
    public var scopes: [String]
}

/// The reason row of a budget change (`privacy_budget_reason`; changes made before reasons were
/// recorded have none).
public struct LedgerBudgetReasonRow: Sendable, Hashable {
    /// Why.
    public var reason: String
    /// The budget in force before the change, in units (nil: none was set).
    public var previousUnits: Int64?
    /// Comma-separated flags (`raise`, `above_2`), empty when none.
    public var flags: String

    /// A reason row.
    public init(reason: String, previousUnits: Int64?, flags: String) {
        self.reason = reason
        self.previousUnits = previousUnits
        self.flags = flags
    }
}

/// One budget change as stored: a `privacy_budget_change` row and its reason row, if any.
public struct LedgerBudgetRow: Sendable, Hashable {
    /// The change id (increasing).
    public var id: Int64
    /// The scope's stored text, or nil for the default budget.
    public var scope: String?
    /// The new budget in ledger units.
    public var units: Int64
    /// The ρ as the steward gave it (exact rational text).
    public var requested: String
    /// When (stored to the millisecond).
    public var changedAt: Date
    /// By whom.
    public var changedBy: String
    /// Its reason row (nil for changes made before reasons were recorded).
    public var reason: LedgerBudgetReasonRow?
}

/// What the ledger's rows hold for one scope, as plain numbers; which budget applies and what
/// is left are the ledger's rules (`PlazoLedger`), not the store's.
public struct LedgerScopeRows: Sendable, Hashable {
    /// The budget last set for this scope, in units (nil: never set).
    public var explicitUnits: Int64?
    /// The default budget last set, in units (nil: never set).
    public var defaultUnits: Int64?
    /// The sum of the units of every spend naming this scope.
    public var spentUnits: Int64
    /// The number of spends naming this scope.
    public var spendCount: Int

    /// What the rows hold for one scope.
    public init(explicitUnits: Int64?, defaultUnits: Int64?, spentUnits: Int64, spendCount: Int) {
        self.explicitUnits = explicitUnits
        self.defaultUnits = defaultUnits
        self.spentUnits = spentUnits
        self.spendCount = spendCount
    }
}

/// The budget ledger's rows, and nothing else: inserts and reads of spends and budget changes as
/// plain values (64-bit units, text, dates), on a connection the caller holds. The SQL of the
/// ledger lives only here and in `LedgerRows+Schema.swift`; the rules (which budget applies,
/// balances, shortfalls, raises, rounding into units) are `PlazoLedger`'s.
///
/// Inside a caller's write transaction (a release debits its spend and stores its rows in one
/// commit) pass that transaction's connection; outside one, a read or write of ``AppDatabase``:
/// `try database.read { db in try LedgerRows(db).scope("2024Q1") }`. A check-then-insert must run
/// in one write transaction, which holds the store's writer from its first read.
public struct LedgerRows {
    /// The connection the rows are read and written on.
    public let db: any SQLConnection

    /// The ledger's rows on `db`.
    public init(_ db: any SQLConnection) { self.db = db }

    // MARK: Writes (append-only: triggers refuse UPDATE and DELETE)

    /// Appends a spend and one scope row per scope; its id and its timestamp as stored (dates are
    /// stored to the millisecond, so the value read back is what a later listing shows).
    public func insertSpend(
        at date: Date, purpose: String, requester: String, costKind: String, costValue: String, units: Int64, scopes: [String]
    ) async throws -> (id: Int64, spentAt: Date) {
        let id = try await db.insert(
            "INSERT INTO privacy_spend (spent_at, purpose, requester, cost_kind, cost_value, rho_units) VALUES (?, ?, ?, ?, ?, ?)",
            date, purpose, requester, costKind, costValue, units)
        for scope in scopes {
            try await db.execute("INSERT INTO privacy_spend_scope (spend_id, scope) VALUES (?, ?)", id, scope)
        }
        let stored: Date = try await db.scalar("SELECT spent_at FROM privacy_spend WHERE id = ?", id) ?? date
        return (id, stored)
    }

    /// Appends a budget change (`scope` nil: the default budget); its id and its timestamp as stored.
    public func insertBudgetChange(
        scope: String?, units: Int64, requested: String, at date: Date, by steward: String
    ) async throws -> (id: Int64, changedAt: Date) {
        let id = try await db.insert(
            "INSERT INTO privacy_budget_change (scope, rho_units, rho_requested, changed_at, changed_by) VALUES (?, ?, ?, ?, ?)",
            scope, units, requested, date, steward)
        let stored: Date = try await db.scalar("SELECT changed_at FROM privacy_budget_change WHERE id = ?", id) ?? date
        return (id, stored)
    }

    /// Appends the reason row of the budget change `changeID`.
    public func insertBudgetReason(changeID: Int64, _ reason: LedgerBudgetReasonRow) async throws {
        try await db.execute(
            "INSERT INTO privacy_budget_reason (change_id, reason, previous_units, flags) VALUES (?, ?, ?, ?)",
            changeID, reason.reason, reason.previousUnits, reason.flags)
    }

    // MARK: Reads

    /// The default budget last set, in units (nil: never set).
    public func defaultUnits() async throws -> Int64? {
        try await db.scalar("SELECT rho_units FROM privacy_budget_change WHERE scope IS NULL ORDER BY id DESC LIMIT 1")
    }

    /// The budget last set for `scope`, in units (nil: never set).
    public func explicitUnits(_ scope: String) async throws -> Int64? {
        try await db.scalar("SELECT rho_units FROM privacy_budget_change WHERE scope = ? ORDER BY id DESC LIMIT 1", scope)
    }

    /// The sum of the units of every spend naming `scope`.
    public func spentUnits(_ scope: String) async throws -> Int64 {
        // Integer SUM is exact on both engines: SQLite raises "integer overflow" rather than
        // rounding; PostgreSQL sums BIGINT as NUMERIC, and the cast back raises "bigint out of range".
        try await db.scalar("""
            SELECT CAST(COALESCE(SUM(s.rho_units), 0) AS BIGINT) FROM privacy_spend s
            JOIN privacy_spend_scope ss ON ss.spend_id = s.id WHERE ss.scope = ?
            """, scope) ?? 0
    }

    /// Everything the rows say about `scope`: its explicit budget, the default, and its spends' sum and count.
    public func scope(_ scope: String) async throws -> LedgerScopeRows {
        let explicit = try await explicitUnits(scope)
        let count: Int = try await db.scalar("SELECT COUNT(*) FROM privacy_spend_scope WHERE scope = ?", scope) ?? 0
        return await LedgerScopeRows(explicitUnits: explicit, defaultUnits: try defaultUnits(), spentUnits: try spentUnits(scope), spendCount: count)
    }

    /// Every scope that has an explicit budget or a spend, sorted.
    public func scopeNames() async throws -> [String] {
        try await db.column("""
            SELECT scope FROM privacy_budget_change WHERE scope IS NOT NULL
            UNION SELECT scope FROM privacy_spend_scope ORDER BY 1
            """)
    }

    /// Every spend, oldest first; only those naming `scope` if given.
    public func spends(scope: String? = nil) async throws -> [LedgerSpendRow] {
        let rows: [SQLRow]
        if let scope {
            rows = try await db.rows("""
                SELECT s.* FROM privacy_spend s WHERE s.id IN (SELECT spend_id FROM privacy_spend_scope WHERE scope = ?)
                ORDER BY s.id
                """, scope)
        } else {
            rows = try await db.rows("SELECT * FROM privacy_spend ORDER BY id")
        }
        var scopesBySpend: [Int64: [String]] = [:]
        for row in try await db.rows("SELECT spend_id, scope FROM privacy_spend_scope ORDER BY spend_id, scope") {
            scopesBySpend[try row["spend_id"], default: []].append(try row["scope"])
        }
        return try rows.map { row in
            let id: Int64 = try row["id"]
            return LedgerSpendRow(
                id: id, spentAt: try row["spent_at"], purpose: try row["purpose"], requester: try row["requester"],
                costKind: try row["cost_kind"], costValue: try row["cost_value"], units: try row["rho_units"],
                scopes: scopesBySpend[id] ?? [])
        }
    }

    /// Every budget change with its reason row, oldest first.
    public func budgetChanges() async throws -> [LedgerBudgetRow] {
        try await db.rows("""
            SELECT c.id, c.scope, c.rho_units, c.rho_requested, c.changed_at, c.changed_by,
                   r.reason, r.previous_units, r.flags, r.change_id AS has_reason
            FROM privacy_budget_change c LEFT JOIN privacy_budget_reason r ON r.change_id = c.id ORDER BY c.id
            """
        ).map { row in
            let hasReason = (try row["has_reason"] as Int64?) != nil
            return LedgerBudgetRow(
                id: try row["id"], scope: try row["scope"], units: try row["rho_units"], requested: try row["rho_requested"],
                changedAt: try row["changed_at"], changedBy: try row["changed_by"],
                reason: hasReason
                    ? LedgerBudgetReasonRow(reason: try row["reason"], previousUnits: try row["previous_units"], flags: try row["flags"])
                    : nil)
        }
    }
}
