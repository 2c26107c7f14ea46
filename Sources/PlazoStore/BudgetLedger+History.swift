import Foundation
import GRDB
import PlazoPrivacy

/// One budget change as the history shows it: who, when, old → new, why, and whether it was
/// flagged (a raise of an existing budget, or a budget above ``BudgetLedger/confirmationThreshold``,
/// both of which need an explicit confirmation).
public struct BudgetHistoryEntry: Sendable, Hashable, Codable {
    /// The change id (increasing).
    public var id: Int64
    /// The cohort, or nil for the default budget.
    public var scope: PrivacyScope?
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

extension BudgetLedger {
    /// A per-cohort budget above this (ρ = 2) needs an explicit confirmation and is flagged.
    public static let confirmationThreshold = Rational(integer: 2)

    /// The largest budget the ledger can represent: ⌊(2⁶³ − 1) / ``RhoUnits/unitsPerRho``⌋ =
    /// 127,974 in ρ (ledger amounts are 64-bit integers of 1/(720720·10⁸) ρ).
    public static let largestBudget = Rational(integer: Int64.max / RhoUnits.unitsPerRho)

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
        _ rho: Rational, scope: PrivacyScope?, by steward: String, reason: String, confirmRaise: Bool = false
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
        let name = scope?.rawValue ?? "the default budget"
        let entry: BudgetHistoryEntry = try performWrite { db in
            let previous: RhoUnits?
            if let scope {
                let hasDefault = try Int.fetchOne(db, sql: "SELECT count(*) FROM privacy_budget_change WHERE scope IS NULL") ?? 0 > 0
                previous = try Self.explicitBudget(db, scope) ?? (hasDefault ? Self.defaultBudget(db) : nil)
            } else {
                let hasDefault = try Int.fetchOne(db, sql: "SELECT count(*) FROM privacy_budget_change WHERE scope IS NULL") ?? 0 > 0
                previous = hasDefault ? try Self.defaultBudget(db) : nil
            }
            var flags: [String] = []
            if let previous, units > previous { flags.append("raise") }
            if rho > Self.confirmationThreshold { flags.append("above_2") }
            if !flags.isEmpty && !confirmRaise {
                var why: [String] = []
                if let previous, flags.contains("raise") { why.append("it raises \(name) from ρ = \(previous.displayDescription) to ρ = \(units.displayDescription), which weakens the promise already made to the cases counted under it") }
                if flags.contains("above_2") { why.append("ρ = \(rho) is above ρ = \(Self.confirmationThreshold), beyond any usual lifetime budget") }
                throw LedgerError.confirmationRequired("budget not changed: " + why.joined(separator: "; and ") + ". Repeat with --confirm-raise if this is intended; it will be flagged in the audit.")
            }
            try db.execute(
                sql: "INSERT INTO privacy_budget_change (scope, rho_units, rho_requested, changed_at, changed_by) VALUES (?, ?, ?, ?, ?)",
                arguments: [scope?.rawValue, units.units, rho.description, now, who])
            let id = db.lastInsertedRowID
            try db.execute(
                sql: "INSERT INTO privacy_budget_reason (change_id, reason, previous_units, flags) VALUES (?, ?, ?, ?)",
                arguments: [id, why, previous?.units, flags.joined(separator: ",")])
            let stored = try Date.fetchOne(db, sql: "SELECT changed_at FROM privacy_budget_change WHERE id = ?", arguments: [id]) ?? now
            return BudgetHistoryEntry(
                id: id, scope: scope, previous: previous, budget: units, requested: rho, changedAt: stored, changedBy: who,
                reason: why, flagged: !flags.isEmpty, flags: flags)
        }
        return entry
    }

    /// Every budget change with who, when, old → new, why and its flags, oldest first. Changes
    /// made before reasons were recorded show the old value re-derived from the history and no reason.
    public func history() throws(LedgerError) -> [BudgetHistoryEntry] {
        do {
            return try database.reader.read { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT c.id, c.scope, c.rho_units, c.rho_requested, c.changed_at, c.changed_by,
                           r.reason, r.previous_units, r.flags, r.change_id AS has_reason
                    FROM privacy_budget_change c LEFT JOIN privacy_budget_reason r ON r.change_id = c.id ORDER BY c.id
                    """)
                var explicit: [String: Int64] = [:]
                var defaultUnits: Int64?
                return try rows.map { row in
                    let scopeName: String? = row["scope"]
                    let units: Int64 = row["rho_units"]
                    let derivedPrevious = scopeName.map { explicit[$0] ?? defaultUnits } ?? defaultUnits
                    let hasReason = (row["has_reason"] as Int64?) != nil
                    let previous: Int64? = hasReason ? row["previous_units"] : derivedPrevious
                    if let scopeName { explicit[scopeName] = units } else { defaultUnits = units }
                    let flags = ((row["flags"] as String?) ?? "").split(separator: ",").map(String.init)
                    return BudgetHistoryEntry(
                        id: row["id"], scope: try scopeName.map { s throws(LedgerError) in try PrivacyScope(s) },
                        previous: previous.map(RhoUnits.init(units:)), budget: RhoUnits(units: units),
                        requested: try Self.rational(row["rho_requested"]), changedAt: row["changed_at"], changedBy: row["changed_by"],
                        reason: row["reason"], flagged: !flags.isEmpty, flags: flags)
                }
            }
        } catch let error as LedgerError { throw error } catch { throw .database(String(describing: error)) }
    }

    /// A cohort's balance on a connection the caller holds (the release path holds the writer).
    public static func balance(in db: Database, _ scope: PrivacyScope) throws -> ScopeBalance { try balance(db, scope) }

    private func performWrite<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do {
            return try database.writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch let error as LedgerError { throw error } catch { throw .database(String(describing: error)) }
    }
}
