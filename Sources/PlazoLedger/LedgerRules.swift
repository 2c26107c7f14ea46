import Foundation
import PlazoModel
import PlazoPrivacy

/// The budget ledger's rules, as pure functions of values: which budget applies to a scope, its
/// balance, what a spend would overdraw, what a spend is charged, and when a budget change needs
/// a confirmation. No I/O: ``BudgetLedger`` reads the rows (``PlazoStore/LedgerRows``), applies
/// these rules and writes the rows, in one transaction.
///
/// Accounting rule (Bun & Steinke 2016, Lemma 1.7 — zCDP composes additively): a scope's guarantee
/// is ρ-zCDP with ρ the sum of the costs of all spends that named it, and a spend is admitted only
/// if, for every scope it names, spent + cost ≤ budget. Pure-DP costs are charged as ε²/2.
///
/// Exactness: amounts are integers in ``RhoUnits``; a charge is rounded **up** and a budget
/// **down**, so the ledger never under-charges.
public enum LedgerRules {
    /// A per-cohort budget above this (ρ = 2) needs an explicit confirmation and is flagged.
    public static let confirmationThreshold = Rational(integer: 2)

    /// The largest budget the ledger can represent: ⌊(2⁶³ − 1) / ``RhoUnits/unitsPerRho``⌋ =
    /// 127,974 in ρ (ledger amounts are 64-bit integers of 1/(720720·10⁸) ρ).
    public static let largestBudget = Rational(integer: Int64.max / RhoUnits.unitsPerRho)

    // MARK: Budgets and balances

    /// The budget in force for a scope: the one set for it, else the default, else **zero** (fail
    /// closed: nothing can be spent before a steward sets a budget).
    public static func budget(explicit: RhoUnits?, default fallback: RhoUnits?) -> RhoUnits {
        explicit ?? fallback ?? RhoUnits(units: 0)
    }

    /// A scope's balance from what its rows hold: its explicit budget (if any), the default (if
    /// any), the sum and number of its spends.
    public static func balance(
        _ scope: Quarter, explicit: RhoUnits?, default fallback: RhoUnits?, spent: RhoUnits, spendCount: Int
    ) -> ScopeBalance {
        ScopeBalance(
            scope: scope, budget: budget(explicit: explicit, default: fallback), budgetIsDefault: explicit == nil, spent: spent,
            spendCount: spendCount)
    }

    // MARK: Charges and shortfalls

    /// What a spend of `cost` charges each scope it names: its ρ (ε²/2 for pure DP), rounded
    /// **up** to the next ledger unit, so that an inexact cost is never under-charged.
    public static func charge(_ cost: PrivacyCost) throws(LedgerError) -> RhoUnits {
        do { return try RhoUnits.charging(cost.rho()) } catch { throw .invalidAmount(error) }
    }

    /// Why `balance`'s scope cannot afford a further `charged` units (spent + charged > budget, or
    /// a sum too large to represent), or nil when it can.
    public static func shortfall(_ balance: ScopeBalance, charged: RhoUnits) -> ScopeShortfall? {
        let (total, overflow) = balance.spent.units.addingReportingOverflow(charged.units)
        guard overflow || total > balance.budget.units else { return nil }
        return ScopeShortfall(scope: balance.scope, budget: balance.budget, spent: balance.spent, requested: charged)
    }

    /// The scopes among `balances` that cannot afford `charged` units each, in their order (empty:
    /// the spend is admitted). A spend is admitted or refused **whole**: one shortfall refuses it.
    public static func shortfalls(_ balances: [ScopeBalance], charged: RhoUnits) -> [ScopeShortfall] {
        balances.compactMap { shortfall($0, charged: charged) }
    }

    /// A spend request that passed the ledger's checks, ready to be weighed against the balances.
    public struct CheckedSpend: Sendable, Hashable {
        /// The distinct scopes, sorted (each is charged once, the full cost: parallel composition
        /// applies across cohorts, not within one release's cohort).
        public var scopes: [Quarter]
        /// The purpose, trimmed.
        public var purpose: String
        /// The requester, trimmed.
        public var requester: String
        /// What each scope is charged (``charge(_:)``).
        public var charged: RhoUnits
    }

    /// Checks `request`: at least one scope, a purpose and a requester, a positive cost, and a
    /// charge the ledger can represent. Throws, in this order, ``LedgerError/noScopes``,
    /// ``LedgerError/missingField(_:)`` or ``LedgerError/invalidAmount(_:)``.
    public static func check(_ request: SpendRequest) throws(LedgerError) -> CheckedSpend {
        let scopes = distinctScopes(request.scopes)
        if scopes.isEmpty { throw .noScopes }
        let purpose = request.purpose.trimmingCharacters(in: .whitespacesAndNewlines)
        let requester = request.requester.trimmingCharacters(in: .whitespacesAndNewlines)
        if purpose.isEmpty { throw .missingField("purpose") }
        if requester.isEmpty { throw .missingField("requester") }
        let rho: Rational
        do { rho = try request.cost.rho() } catch { throw .invalidAmount(error) }
        guard rho.isPositive else { throw .invalidAmount(.parameterOutOfRange(what: "cost", reason: "must be > 0")) }
        let charged: RhoUnits
        do { charged = try RhoUnits.charging(rho) } catch { throw .invalidAmount(error) }
        return CheckedSpend(scopes: scopes, purpose: purpose, requester: requester, charged: charged)
    }

    /// The distinct scopes of a request, sorted: the order the ledger checks and stores them in.
    public static func distinctScopes(_ scopes: [Quarter]) -> [Quarter] { Array(Set(scopes)).sorted() }

    // MARK: Budget changes

    /// A budget: ρ rounded **down** to the unit below (a budget is never more than was set).
    public static func budgetUnits(_ rho: Rational) throws(LedgerError) -> RhoUnits {
        do { return try RhoUnits.budget(rho) } catch { throw .invalidAmount(error) }
    }

    /// A budget change request that passed the checks that need no ledger state.
    public struct CheckedChange: Sendable, Hashable {
        /// The steward, trimmed.
        public var steward: String
        /// The reason, trimmed.
        public var reason: String
        /// The new budget (``budgetUnits(_:)``).
        public var units: RhoUnits
    }

    /// The guard rails of `docs/privacy-model.md` §5 that need no ledger state: a steward and a
    /// reason (``LedgerError/missingField(_:)``), ρ no larger than ``largestBudget``
    /// (``LedgerError/budgetTooLarge(_:)``), a representable budget (``LedgerError/invalidAmount(_:)``).
    public static func checkChange(_ rho: Rational, by steward: String, reason: String) throws(LedgerError) -> CheckedChange {
        let who = steward.trimmingCharacters(in: .whitespacesAndNewlines)
        let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if who.isEmpty { throw .missingField("steward") }
        if why.isEmpty { throw .missingField("reason") }
        if rho > largestBudget {
            throw .budgetTooLarge("ρ = \(rho) is larger than the largest budget the ledger can hold (ρ = \(largestBudget)); no budget was changed")
        }
        return CheckedChange(steward: who, reason: why, units: try budgetUnits(rho))
    }

    /// The flags of a change of `scope`'s budget (nil: the default) to ρ = `rho` (`units` in the
    /// ledger) from `previous` (the budget in force before, nil if none was ever set): `raise` when
    /// it raises an existing budget (which weakens the promise already made to the cases counted
    /// under it), `above_2` when ρ is above ``confirmationThreshold``. A flagged change without
    /// `confirmRaise` is refused with ``LedgerError/confirmationRequired(_:)``, saying why.
    public static func changeFlags(
        _ rho: Rational, units: RhoUnits, scope: Quarter?, previous: RhoUnits?, confirmRaise: Bool
    ) throws(LedgerError) -> [String] {
        var flags: [String] = []
        if let previous, units > previous { flags.append("raise") }
        if rho > confirmationThreshold { flags.append("above_2") }
        if !flags.isEmpty && !confirmRaise {
            let name = scope?.description ?? "the default budget"
            var why: [String] = []
            if let previous, flags.contains("raise") { why.append("it raises \(name) from ρ = \(previous.displayDescription) to ρ = \(units.displayDescription), which weakens the promise already made to the cases counted under it") }
            if flags.contains("above_2") { why.append("ρ = \(rho) is above ρ = \(confirmationThreshold), beyond any usual lifetime budget") }
            throw .confirmationRequired("budget not changed: " + why.joined(separator: "; and ") + ". Repeat with --confirm-raise if this is intended; it will be flagged in the audit.")
        }
        return flags
    }

    /// The budgets in force as a history of changes is replayed, oldest first: what each change
    /// replaced (for changes recorded before the old value was stored beside them).
    public struct BudgetsInForce: Sendable {
        var explicit: [Quarter: RhoUnits] = [:]
        var fallback: RhoUnits?

        /// No budget set yet.
        public init() {}

        /// The budget in force for `scope` (nil: the default) before the next change: its own,
        /// else the default; nil when none was ever set (zero, fail closed).
        public func previous(for scope: Quarter?) -> RhoUnits? {
            scope.map { explicit[$0] ?? fallback } ?? fallback
        }

        /// Applies a change of `scope`'s budget (nil: the default) to `units`.
        public mutating func apply(_ units: RhoUnits, to scope: Quarter?) {
            if let scope { explicit[scope] = units } else { fallback = units }
        }
    }

    // MARK: Audit

    /// The ledger's invariants over every spend and every balance, as sentences (empty: consistent):
    /// every spend names a scope, its charge equals its cost's ρ rounded up, no scope's spends exceed
    /// its budget (possible only after a budget was lowered), and each balance's spent total equals
    /// the sum of the charges of the spends naming it.
    public static func auditProblems(entries: [LedgerEntry], balances: [ScopeBalance]) -> [String] {
        var problems: [String] = []
        for e in entries {
            if e.scopes.isEmpty { problems.append("spend \(e.id) names no scope") }
            let expected = try? charge(e.cost)
            if expected != e.charged { problems.append("spend \(e.id) charged \(e.charged.units) units, cost \(e.cost) implies \(expected?.units ?? -1)") }
        }
        for b in balances where b.remainingUnits < 0 {
            problems.append("\(b.scope) is over budget: spent ρ=\(b.spent) > budget ρ=\(b.budget) (budget lowered after spending?)")
        }
        // Cross-check the SQL sums against the entries.
        var fromEntries: [Quarter: Int64] = [:]
        for e in entries { for s in e.scopes { fromEntries[s, default: 0] += e.charged.units } }
        for b in balances where (fromEntries[b.scope] ?? 0) != b.spent.units {
            problems.append("\(b.scope): spent total mismatch")
        }
        return problems
    }
}
