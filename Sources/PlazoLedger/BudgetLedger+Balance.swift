import Foundation
import PlazoModel
import PlazoPrivacy
import PlazoStore

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
    public func entries(scope: Quarter? = nil) async throws(LedgerError) -> [LedgerEntry] {
        try await read { db in
            try await LedgerRows(db).spends(scope: scope?.description).map { row in
                LedgerEntry(
                    id: row.id, spentAt: row.spentAt, scopes: try row.scopes.map { s throws(LedgerError) in try Quarter(scope: s) },
                    cost: try Self.cost(kind: row.costKind, value: row.costValue), charged: RhoUnits(units: row.units),
                    purpose: row.purpose, requester: row.requester)
            }
        }
    }

    /// The balance of one scope.
    public func balance(for scope: Quarter) async throws(LedgerError) -> ScopeBalance {
        try await read { db in try await Self.balance(db, scope) }
    }

    /// Balances of every scope that has an explicit budget or a spend, sorted by scope.
    public func balances() async throws(LedgerError) -> [ScopeBalance] {
        try await read { db in
            var balances: [ScopeBalance] = []
            for name in try await LedgerRows(db).scopeNames() { balances.append(try await Self.balance(db, Quarter(scope: name))) }
            return balances
        }
    }

    /// Re-derives every balance and checks the ledger's invariants (``LedgerRules/auditProblems(entries:balances:)``):
    /// every spend names a scope, its charge equals its cost's ρ rounded up, and no scope's spends
    /// exceed its budget.
    public func audit() async throws(LedgerError) -> LedgerAudit {
        let list = try await entries()
        let sums = try await balances()
        return LedgerAudit(balances: sums, spendCount: list.count, problems: LedgerRules.auditProblems(entries: list, balances: sums))
    }

    /// A cohort's balance on a connection the caller holds (the release path holds the writer).
    public static func balance(in db: any SQLConnection, _ scope: Quarter) async throws -> ScopeBalance { try await balance(db, scope) }

    static func balance(_ db: any SQLConnection, _ scope: Quarter) async throws -> ScopeBalance {
        let rows = try await LedgerRows(db).scope(scope.description)
        return LedgerRules.balance(
            scope, explicit: rows.explicitUnits.map(RhoUnits.init(units:)), default: rows.defaultUnits.map(RhoUnits.init(units:)),
            spent: RhoUnits(units: rows.spentUnits), spendCount: rows.spendCount)
    }
}
