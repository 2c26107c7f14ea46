import Foundation
import PlazoModel
import PlazoPrivacy

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
    /// A per-cohort budget above this (ρ = 2) needs an explicit confirmation and is flagged.
    public static let confirmationThreshold = Rational(integer: 2)

    /// The largest budget the ledger can represent: ⌊(2⁶³ − 1) / ``RhoUnits/unitsPerRho``⌋ =
    /// 127,974 in ρ (ledger amounts are 64-bit integers of 1/(720720·10⁸) ρ).
    public static let largestBudget = Rational(integer: Int64.max / RhoUnits.unitsPerRho)

    // MARK: Budgets

    /// Sets `scope`'s budget to ρ (rounded down to ledger units). Recorded in the change history,
    /// **without a reason and without the guard rails**: for tests, benchmarks and tools. Stewards
    /// change budgets through ``changeBudget(_:scope:by:reason:confirmRaise:)`` (`plazo ledger
    /// set-budget --reason`), which requires a reason and confirms raises.
    public func setBudget(_ rho: Rational, for scope: Quarter, by steward: String) throws(LedgerError) {
        try recordBudget(rho, scope: scope, by: steward)
    }

    /// Sets the default budget, which applies to every scope without an explicit budget (no reason,
    /// no guard rails: see ``setBudget(_:for:by:)``).
    public func setDefaultBudget(_ rho: Rational, by steward: String) throws(LedgerError) {
        try recordBudget(rho, scope: nil, by: steward)
    }

    func recordBudget(_ rho: Rational, scope: Quarter?, by steward: String) throws(LedgerError) {
        if steward.trimmingCharacters(in: .whitespaces).isEmpty { throw .missingField("steward") }
        let units: RhoUnits
        do { units = try RhoUnits.budget(rho) } catch { throw .invalidAmount(error) }
        let now = clock()
        try perform { db in _ = try Self.insertChange(in: db, scope: scope, units: units, requested: rho, at: now, by: steward) }
    }

    /// The default budget (zero if never set).
    public func defaultBudget() throws(LedgerError) -> RhoUnits {
        try read { db in try Self.defaultBudget(db) }
    }

    /// Every budget change, oldest first.
    public func budgetChanges() throws(LedgerError) -> [BudgetChange] {
        try read { db in
            try db.rows("SELECT * FROM privacy_budget_change ORDER BY id").map { row in
                BudgetChange(
                    id: try row["id"],
                    scope: try (try row["scope"] as String?).map { s throws(LedgerError) in try Quarter(scope: s) },
                    budget: RhoUnits(units: try row["rho_units"]),
                    requested: try Self.rational(try row["rho_requested"]),
                    changedAt: try row["changed_at"],
                    changedBy: try row["changed_by"])
            }
        }
    }

    /// Sets a cohort's budget (`scope`), or the default (`scope == nil`), with the reason recorded
    /// beside it and the guard rails of `docs/privacy-model.md` §5:
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
    ) throws(LedgerError) -> BudgetHistoryEntry {
        let who = steward.trimmingCharacters(in: .whitespacesAndNewlines)
        let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if who.isEmpty { throw .missingField("steward") }
        if why.isEmpty { throw .missingField("reason") }
        if rho > Self.largestBudget {
            throw .budgetTooLarge("ρ = \(rho) is larger than the largest budget the ledger can hold (ρ = \(Self.largestBudget)); no budget was changed")
        }
        let units: RhoUnits
        do { units = try RhoUnits.budget(rho) } catch { throw .invalidAmount(error) }
        let now = clock()
        let name = scope?.description ?? "the default budget"
        let entry: BudgetHistoryEntry = try perform { db in
            // The budget in force before: the scope's own, else the default if one was ever set.
            let hasDefault = (try db.scalar("SELECT count(*) FROM privacy_budget_change WHERE scope IS NULL") as Int? ?? 0) > 0
            let fallback = try hasDefault ? Self.defaultBudget(db) : nil
            let previous = try scope.flatMap { scope in try Self.explicitBudget(db, scope) } ?? fallback
            var flags: [String] = []
            if let previous, units > previous { flags.append("raise") }
            if rho > Self.confirmationThreshold { flags.append("above_2") }
            if !flags.isEmpty && !confirmRaise {
                var why: [String] = []
                if let previous, flags.contains("raise") { why.append("it raises \(name) from ρ = \(previous.displayDescription) to ρ = \(units.displayDescription), which weakens the promise already made to the cases counted under it") }
                if flags.contains("above_2") { why.append("ρ = \(rho) is above ρ = \(Self.confirmationThreshold), beyond any usual lifetime budget") }
                throw LedgerError.confirmationRequired("budget not changed: " + why.joined(separator: "; and ") + ". Repeat with --confirm-raise if this is intended; it will be flagged in the audit.")
            }
            let id = try Self.insertChange(in: db, scope: scope, units: units, requested: rho, at: now, by: who)
            try db.execute(
                "INSERT INTO privacy_budget_reason (change_id, reason, previous_units, flags) VALUES (?, ?, ?, ?)",
                id, why, previous?.units, flags.joined(separator: ","))
            let stored: Date = try db.scalar("SELECT changed_at FROM privacy_budget_change WHERE id = ?", id) ?? now
            return BudgetHistoryEntry(
                id: id, scope: scope, previous: previous, budget: units, requested: rho, changedAt: stored, changedBy: who,
                reason: why, flagged: !flags.isEmpty, flags: flags)
        }
        return entry
    }

    /// Every budget change with who, when, old → new, why and its flags, oldest first. Changes
    /// made before reasons were recorded show the old value re-derived from the history and no reason.
    public func history() throws(LedgerError) -> [BudgetHistoryEntry] {
        try read { db in
            let rows = try db.rows("""
                SELECT c.id, c.scope, c.rho_units, c.rho_requested, c.changed_at, c.changed_by,
                       r.reason, r.previous_units, r.flags, r.change_id AS has_reason
                FROM privacy_budget_change c LEFT JOIN privacy_budget_reason r ON r.change_id = c.id ORDER BY c.id
                """)
            var explicit: [String: Int64] = [:]
            var defaultUnits: Int64?
            return try rows.map { row in
                let scopeName: String? = try row["scope"]
                let units: Int64 = try row["rho_units"]
                let derivedPrevious = scopeName.map { explicit[$0] ?? defaultUnits } ?? defaultUnits
                let hasReason = (try row["has_reason"] as Int64?) != nil
                let previous: Int64? = hasReason ? try row["previous_units"] : derivedPrevious
                if let scopeName { explicit[scopeName] = units } else { defaultUnits = units }
                let flags = ((try row["flags"] as String?) ?? "").split(separator: ",").map(String.init)
                return BudgetHistoryEntry(
                    id: try row["id"], scope: try scopeName.map { s throws(LedgerError) in try Quarter(scope: s) },
                    previous: previous.map(RhoUnits.init(units:)), budget: RhoUnits(units: units),
                    requested: try Self.rational(try row["rho_requested"]), changedAt: try row["changed_at"],
                    changedBy: try row["changed_by"], reason: try row["reason"], flagged: !flags.isEmpty, flags: flags)
            }
        }
    }

    /// Appends one budget change row (the one insert behind ``setBudget(_:for:by:)``,
    /// ``setDefaultBudget(_:by:)`` and ``changeBudget(_:scope:by:reason:confirmRaise:)``); its id.
    static func insertChange(
        in db: any SQLConnection, scope: Quarter?, units: RhoUnits, requested rho: Rational, at date: Date, by steward: String
    ) throws -> Int64 {
        try db.insert(
            "INSERT INTO privacy_budget_change (scope, rho_units, rho_requested, changed_at, changed_by) VALUES (?, ?, ?, ?, ?)",
            scope?.description, units.units, rho.description, date, steward)
    }
}
