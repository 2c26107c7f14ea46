import Foundation
import PlazoModel
import PlazoPrivacy
import PlazoStore

/// A change of a budget (a scope's, or the default when `scope` is nil).
public struct BudgetChange: Sendable, Hashable, Codable {
    /// Sequence number.
    public var id: Int64
    /// The scope, or nil for the default budget.
    public var scope: Quarter?
    /// The new budget in ledger units (rounded down if the requested ρ was inexact).
    public var budget: RhoUnits
    /// The ρ as the steward gave it.
    public var requested: Rational
    /// When.
    public var changedAt: Date
    /// By whom.
    public var changedBy: String
}

/// One budget change as the history shows it: who, when, old → new, why, and whether it was
/// flagged (a raise of an existing budget, or a budget above ``BudgetLedger/confirmationThreshold``,
/// both of which need an explicit confirmation).
public struct BudgetHistoryEntry: Sendable, Hashable, Codable {
    /// The change id (increasing).
    public var id: Int64
    /// The cohort, or nil for the default budget.
    public var scope: Quarter?
    /// The budget in force for that scope before the change (nil: none was ever set, i.e. zero, fail closed).
    public var previous: RhoUnits?
    /// The budget after the change.
    public var budget: RhoUnits
    /// ρ as the steward gave it (the budget is this rounded down to ledger units).
    public var requested: Rational
    /// When.
    public var changedAt: Date
    /// Who.
    public var changedBy: String
    /// Why (nil only for changes made before reasons were recorded).
    public var reason: String?
    /// True when the change raised an existing budget or set one above the threshold.
    public var flagged: Bool
    /// The flags in words (`raise`, `above_2`).
    public var flags: [String]
}

/// Budgets: set, changed with a reason and guard rails, and their history.
extension BudgetLedger {
    /// A per-cohort budget above this (ρ = 2) needs an explicit confirmation and is flagged
    /// (``LedgerRules/confirmationThreshold``).
    public static var confirmationThreshold: Rational { LedgerRules.confirmationThreshold }

    /// The largest budget the ledger can represent (``LedgerRules/largestBudget``: ρ = 127,974).
    public static var largestBudget: Rational { LedgerRules.largestBudget }

    // MARK: Budgets

    /// Sets `scope`'s budget to ρ (rounded down to ledger units). Recorded in the change history,
    /// **without a reason and without the guard rails**: for tests, benchmarks and tools. Stewards
    /// change budgets through ``changeBudget(_:scope:by:reason:confirmRaise:)`` (`plazo ledger
    /// set-budget --reason`), which requires a reason and confirms raises.
    public func setBudget(_ rho: Rational, for scope: Quarter, by steward: String) async throws(LedgerError) {
        try await recordBudget(rho, scope: scope, by: steward)
    }

    /// Sets the default budget, which applies to every scope without an explicit budget (no reason,
    /// no guard rails: see ``setBudget(_:for:by:)``).
    public func setDefaultBudget(_ rho: Rational, by steward: String) async throws(LedgerError) {
        try await recordBudget(rho, scope: nil, by: steward)
    }

    func recordBudget(_ rho: Rational, scope: Quarter?, by steward: String) async throws(LedgerError) {
        if steward.trimmingCharacters(in: .whitespaces).isEmpty { throw .missingField("steward") }
        let units = try LedgerRules.budgetUnits(rho)
        let now = clock()
        try await perform { db in
            _ = try await LedgerRows(db).insertBudgetChange(
                scope: scope?.description, units: units.units, requested: rho.description, at: now, by: steward)
        }
    }

    /// The default budget (zero if never set).
    public func defaultBudget() async throws(LedgerError) -> RhoUnits {
        try await read { db in LedgerRules.budget(explicit: nil, default: try await LedgerRows(db).defaultUnits().map(RhoUnits.init(units:))) }
    }

    /// Every budget change, oldest first.
    public func budgetChanges() async throws(LedgerError) -> [BudgetChange] {
        try await read { db in
            try await LedgerRows(db).budgetChanges().map { row in
                BudgetChange(
                    id: row.id, scope: try row.scope.map { s throws(LedgerError) in try Quarter(scope: s) },
                    budget: RhoUnits(units: row.units), requested: try Self.rational(row.requested), changedAt: row.changedAt,
                    changedBy: row.changedBy)
            }
        }
    }

    /// Sets a cohort's budget (`scope`), or the default (`scope == nil`), with the reason recorded
    /// beside it and the guard rails of `docs/privacy-model.md` §5 (``LedgerRules/checkChange(_:by:reason:)``
    /// and ``LedgerRules/changeFlags(_:units:scope:previous:confirmRaise:)``):
    /// - `reason` must not be empty;
    /// - ρ above ``largestBudget`` is refused with a sentence;
    /// - a raise of a budget already in force for the scope, or ρ above ``confirmationThreshold``,
    ///   is refused unless `confirmRaise` is true, and is then flagged in the history and the audit.
    ///
    /// The old value, the new one and the flags are written in the same `IMMEDIATE` transaction as
    /// the change, so the history cannot disagree with the budgets.
    @discardableResult
    public func changeBudget(
        _ rho: Rational, scope: Quarter?, by steward: String, reason: String, confirmRaise: Bool = false
    ) async throws(LedgerError) -> BudgetHistoryEntry {
        let change = try LedgerRules.checkChange(rho, by: steward, reason: reason)
        let now = clock()
        return try await perform { db in
            let rows = LedgerRows(db)
            // The budget in force before: the scope's own, else the default if one was ever set.
            let explicit = if let scope { try await rows.explicitUnits(scope.description) } else { Int64?.none }
            let previous = if let explicit { RhoUnits(units: explicit) } else { try await rows.defaultUnits().map(RhoUnits.init(units:)) }
            let flags = try LedgerRules.changeFlags(rho, units: change.units, scope: scope, previous: previous, confirmRaise: confirmRaise)
            let stored = try await rows.insertBudgetChange(
                scope: scope?.description, units: change.units.units, requested: rho.description, at: now, by: change.steward)
            try await rows.insertBudgetReason(
                changeID: stored.id,
                LedgerBudgetReasonRow(reason: change.reason, previousUnits: previous?.units, flags: flags.joined(separator: ",")))
            return BudgetHistoryEntry(
                id: stored.id, scope: scope, previous: previous, budget: change.units, requested: rho, changedAt: stored.changedAt,
                changedBy: change.steward, reason: change.reason, flagged: !flags.isEmpty, flags: flags)
        }
    }

    /// Every budget change with who, when, old → new, why and its flags, oldest first. Changes
    /// made before reasons were recorded show the old value re-derived from the history and no reason.
    public func history() async throws(LedgerError) -> [BudgetHistoryEntry] {
        try await read { db in
            var inForce = LedgerRules.BudgetsInForce()
            return try await LedgerRows(db).budgetChanges().map { row in
                let scope = try row.scope.map { s throws(LedgerError) in try Quarter(scope: s) }
                let units = RhoUnits(units: row.units)
                // Stored beside the change since reasons were recorded; re-derived before that.
                let previous = row.reason == nil ? inForce.previous(for: scope) : row.reason?.previousUnits.map(RhoUnits.init(units:))
                inForce.apply(units, to: scope)
                let flags = (row.reason?.flags ?? "").split(separator: ",").map(String.init)
                return BudgetHistoryEntry(
                    id: row.id, scope: scope, previous: previous, budget: units, requested: try Self.rational(row.requested),
                    changedAt: row.changedAt, changedBy: row.changedBy, reason: row.reason?.reason, flagged: !flags.isEmpty,
                    flags: flags)
            }
        }
    }
}
