import Foundation
import PlazoModel
import PlazoPrivacy
import PlazoStore

/// A request to spend privacy budget: the scopes (cohorts) whose cases the release uses, its cost,
/// why, and who asked.
public struct SpendRequest: Sendable, Hashable {
    /// The cohorts touched. Each is charged the full cost (parallel composition applies across
    /// cohorts, not within one release's cohort).
    public var scopes: [Quarter]
    /// The privacy cost, as proved by the mechanism(s).
    public var cost: PrivacyCost
    /// What the spend is for, e.g. `"release 2025Q2 quarterly tables"`.
    public var purpose: String
    /// Who asked (a steward's name or token name).
    public var requester: String

    /// A spend request.
    public init(scopes: [Quarter], cost: PrivacyCost, purpose: String, requester: String) {
        self.scopes = scopes
        self.cost = cost
        self.purpose = purpose
        self.requester = requester
    }
}

/// One recorded spend (a ledger row).
public struct LedgerEntry: Sendable, Hashable, Codable {
    /// Sequence number, increasing in commit order.
    public var id: Int64
    /// When it was recorded.
    public var spentAt: Date
    /// The cohorts charged.
    public var scopes: [Quarter]
    /// The cost as requested (exact).
    public var cost: PrivacyCost
    /// What each scope was charged, in ρ ledger units (= the cost's ρ, rounded up if inexact).
    public var charged: RhoUnits
    /// The stated purpose.
    public var purpose: String
    /// Who asked.
    public var requester: String
}

/// Why a scope refused a spend.
public struct ScopeShortfall: Sendable, Hashable, CustomStringConvertible {
    /// The scope.
    public var scope: Quarter
    /// Its budget.
    public var budget: RhoUnits
    /// Already spent.
    public var spent: RhoUnits
    /// Requested.
    public var requested: RhoUnits

    /// A human-readable form.
    public var description: String {
        "\(scope): budget ρ=\(budget), spent ρ=\(spent), requested ρ=\(requested)"
    }
}

/// Spending: admitted only if every scope named has room for the cost, atomically.
extension BudgetLedger {
    // MARK: Spending

    /// Records `request` if every scope it names has room for its cost; otherwise throws
    /// ``LedgerError/budgetExceeded(_:)`` and records nothing. Atomic across threads and processes.
    @discardableResult
    public func spend(_ request: SpendRequest) async throws(LedgerError) -> LedgerEntry {
        let now = clock()
        return try await perform { db in try await Self.spend(request, in: db, at: now) }
    }

    /// The scopes that could not afford `request` now (empty if it would be admitted), without
    /// writing anything. Advisory only: a concurrent spend may change the answer, so ``spend(_:)``
    /// checks again atomically.
    public func shortfalls(for request: SpendRequest) async throws(LedgerError) -> [ScopeShortfall] {
        try await read { db in
            let charged = try LedgerRules.charge(request.cost)
            return try await Self.shortfalls(LedgerRules.distinctScopes(request.scopes), charged: charged, in: db)
        }
    }

    /// The balances of `scopes` as `db` sees them, weighed against `charged` (``LedgerRules/shortfalls(_:charged:)``).
    static func shortfalls(_ scopes: [Quarter], charged: RhoUnits, in db: any SQLConnection) async throws -> [ScopeShortfall] {
        var balances: [ScopeBalance] = []
        for scope in scopes { balances.append(try await balance(db, scope)) }
        return LedgerRules.shortfalls(balances, charged: charged)
    }

    /// The same, inside a write transaction the caller already holds (so that a release can be
    /// stored and its budget debited in one commit: if the caller rolls back, so does the spend).
    /// The caller's transaction should be `IMMEDIATE` if other processes may write the same file.
    public static func spend(_ request: SpendRequest, in db: any SQLConnection, at date: Date) async throws -> LedgerEntry {
        let checked = try LedgerRules.check(request)
        // Read the balances and insert on the same connection, inside the caller's transaction,
        // which holds the writer: no other spend can come between the check and the insert.
        let shortfalls = try await Self.shortfalls(checked.scopes, charged: checked.charged, in: db)
        if !shortfalls.isEmpty { throw LedgerError.budgetExceeded(shortfalls) }

        let (kind, value) = costColumns(request.cost)
        let stored = try await LedgerRows(db).insertSpend(
            at: date, purpose: checked.purpose, requester: checked.requester, costKind: kind, costValue: value,
            units: checked.charged.units, scopes: checked.scopes.map(\.description))
        return LedgerEntry(id: stored.id, spentAt: stored.spentAt, scopes: checked.scopes, cost: request.cost, charged: checked.charged,
                           purpose: checked.purpose, requester: checked.requester)
    }

    /// A cost as the ledger stores it: its kind (`zcdp`, `pure_dp`) and its exact value.
    static func costColumns(_ cost: PrivacyCost) -> (String, String) {
        switch cost {
        case let .zCDP(rho): ("zcdp", rho.description)
        case let .pureDP(epsilon): ("pure_dp", epsilon.description)
        }
    }

    /// A stored cost read back.
    static func cost(kind: String, value: String) throws -> PrivacyCost {
        let r = try rational(value)
        switch kind {
        case "zcdp": return .zCDP(rho: r)
        case "pure_dp": return .pureDP(epsilon: r)
        default: throw LedgerError.database("unknown cost kind \(kind)")
        }
    }
}
