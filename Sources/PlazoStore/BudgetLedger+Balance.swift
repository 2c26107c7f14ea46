import Foundation
import PlazoModel
import PlazoPrivacy

/// The state of one scope's budget.
public struct ScopeBalance: Sendable, Hashable, Codable {
    /// The cohort.
    public var scope: Quarter
    /// Its budget in ρ (explicit, or the default).
    public var budget: RhoUnits
    /// True when ``budget`` is the ledger's default (no explicit budget was set for this scope).
    public var budgetIsDefault: Bool
    /// Sum of all spends naming this scope.
    public var spent: RhoUnits
    /// Number of spends naming this scope.
    public var spendCount: Int
    /// `budget − spent`, in units (negative only if a budget was lowered below what was spent).
    public var remainingUnits: Int64 { budget.units - spent.units }
}

/// The result of ``BudgetLedger/audit()``.
public struct LedgerAudit: Sendable, Hashable, Codable {
    /// Every scope ever budgeted or spent, with its balance.
    public var balances: [ScopeBalance]
    /// Number of spend rows.
    public var spendCount: Int
    /// Human-readable problems found (empty when consistent): a scope over budget (possible only
    /// after a budget was lowered), a spend with no scope, a charge that does not match its cost.
    public var problems: [String]
    /// True when ``problems`` is empty.
    public var isConsistent: Bool { problems.isEmpty }
}

/// Listing, balances and the audit, re-derived from the rows.
extension BudgetLedger {
    // MARK: Listing and audit

    /// All spends, oldest first; only those naming `scope` if given.
    public func entries(scope: Quarter? = nil) throws(LedgerError) -> [LedgerEntry] {
        try read { db in
            let rows: [SQLRow]
            if let scope {
                rows = try db.rows("""
                    SELECT s.* FROM privacy_spend s WHERE s.id IN (SELECT spend_id FROM privacy_spend_scope WHERE scope = ?)
                    ORDER BY s.id
                    """, scope.description)
            } else {
                rows = try db.rows("SELECT * FROM privacy_spend ORDER BY id")
            }
            var scopesBySpend: [Int64: [Quarter]] = [:]
            for row in try db.rows("SELECT spend_id, scope FROM privacy_spend_scope ORDER BY spend_id, scope") {
                scopesBySpend[try row["spend_id"], default: []].append(try Quarter(scope: try row["scope"]))
            }
            return try rows.map { row in
                let id: Int64 = try row["id"]
                return LedgerEntry(
                    id: id, spentAt: try row["spent_at"], scopes: scopesBySpend[id] ?? [],
                    cost: try Self.cost(kind: try row["cost_kind"], value: try row["cost_value"]),
                    charged: RhoUnits(units: try row["rho_units"]), purpose: try row["purpose"], requester: try row["requester"])
            }
        }
    }

    /// The balance of one scope.
    public func balance(for scope: Quarter) throws(LedgerError) -> ScopeBalance {
        try read { db in try Self.balance(db, scope) }
    }

    /// Balances of every scope that has an explicit budget or a spend, sorted by scope.
    public func balances() throws(LedgerError) -> [ScopeBalance] {
        try read { db in
            let names: [String] = try db.column("""
                SELECT scope FROM privacy_budget_change WHERE scope IS NOT NULL
                UNION SELECT scope FROM privacy_spend_scope ORDER BY 1
                """)
            return try names.map { name in try Self.balance(db, Quarter(scope: name)) }
        }
    }

    /// Re-derives every balance and checks the ledger's invariants: every spend names a scope,
    /// its charge equals its cost's ρ rounded up, and no scope's spends exceed its budget.
    public func audit() throws(LedgerError) -> LedgerAudit {
        let list = try entries()
        let sums = try balances()
        var problems: [String] = []
        for e in list {
            if e.scopes.isEmpty { problems.append("spend \(e.id) names no scope") }
            let expected = try? RhoUnits.charging(e.cost.rho())
            if expected != e.charged { problems.append("spend \(e.id) charged \(e.charged.units) units, cost \(e.cost) implies \(expected?.units ?? -1)") }
        }
        for b in sums where b.remainingUnits < 0 {
            problems.append("\(b.scope) is over budget: spent ρ=\(b.spent) > budget ρ=\(b.budget) (budget lowered after spending?)")
        }
        // Cross-check the SQL sums against the entries.
        var fromEntries: [Quarter: Int64] = [:]
        for e in list { for s in e.scopes { fromEntries[s, default: 0] += e.charged.units } }
        for b in sums where (fromEntries[b.scope] ?? 0) != b.spent.units {
            problems.append("\(b.scope): spent total mismatch")
        }
        return LedgerAudit(balances: sums, spendCount: list.count, problems: problems)
    }

    /// A cohort's balance on a connection the caller holds (the release path holds the writer).
    public static func balance(in db: any SQLConnection, _ scope: Quarter) throws -> ScopeBalance { try balance(db, scope) }

    static func defaultBudget(_ db: any SQLConnection) throws -> RhoUnits {
        RhoUnits(units: try db.scalar("""
            SELECT rho_units FROM privacy_budget_change WHERE scope IS NULL ORDER BY id DESC LIMIT 1
            """) ?? 0)
    }

    static func explicitBudget(_ db: any SQLConnection, _ scope: Quarter) throws -> RhoUnits? {
        (try db.scalar("SELECT rho_units FROM privacy_budget_change WHERE scope = ? ORDER BY id DESC LIMIT 1", scope.description) as Int64?)
            .map(RhoUnits.init(units:))
    }

    static func spentUnits(_ db: any SQLConnection, _ scope: Quarter) throws -> RhoUnits {
        // Integer SUM is exact on both engines: SQLite raises "integer overflow" rather than
        // rounding; PostgreSQL sums BIGINT as NUMERIC, and the cast back raises "bigint out of range".
        RhoUnits(units: try db.scalar("""
            SELECT CAST(COALESCE(SUM(s.rho_units), 0) AS BIGINT) FROM privacy_spend s
            JOIN privacy_spend_scope ss ON ss.spend_id = s.id WHERE ss.scope = ?
            """, scope.description) ?? 0)
    }

    static func balance(_ db: any SQLConnection, _ scope: Quarter) throws -> ScopeBalance {
        let explicit = try explicitBudget(db, scope)
        let count: Int = try db.scalar("SELECT COUNT(*) FROM privacy_spend_scope WHERE scope = ?", scope.description) ?? 0
        return ScopeBalance(scope: scope, budget: try explicit ?? defaultBudget(db), budgetIsDefault: explicit == nil,
                            spent: try spentUnits(db, scope), spendCount: count)
    }
}
