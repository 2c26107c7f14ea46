import Foundation
import GRDB
import PlazoPrivacy

/// A privacy-unit scope whose budget is accounted separately: for Plazo, a report-quarter cohort
/// such as `2024Q1`.
///
/// Why per cohort: the privacy unit is one case and every case belongs to exactly one cohort (the
/// quarter of its first report). Releases about different cohorts touch disjoint sets of cases,
/// so they compose in parallel: each cohort's guarantee depends only on the spends that named it
/// (see docs/privacy-model.md).
public struct PrivacyScope: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The canonical text, `YYYYQn`.
    public let rawValue: String

    /// Validates `YYYYQn` (year 1900–2999, quarter 1–4).
    public init(_ text: String) throws(LedgerError) {
        let b = Array(text.utf8)
        guard b.count == 6, b[0] == UInt8(ascii: "1") || b[0] == UInt8(ascii: "2"),
              b[0..<4].allSatisfy({ $0 >= 48 && $0 <= 57 }), b[4] == UInt8(ascii: "Q"),
              b[5] >= UInt8(ascii: "1"), b[5] <= UInt8(ascii: "4"),
              !(b[0] == UInt8(ascii: "1") && b[1] != UInt8(ascii: "9"))
        else { throw .invalidScope(text) }
        rawValue = text
    }

    /// The cohort of a year and quarter.
    public init(year: Int, quarter: Int) throws(LedgerError) {
        try self.init(String(format: "%04dQ%d", year, quarter))
    }

    /// A human-readable form.
    public var description: String { rawValue }
    /// Orders by value.
    public static func < (a: PrivacyScope, b: PrivacyScope) -> Bool { a.rawValue < b.rawValue }

    /// Decodes the canonical text form, validating it.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Encodes the canonical text form.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// A request to spend privacy budget: the scopes (cohorts) whose cases the release uses, its cost,
/// why, and who asked.
public struct SpendRequest: Sendable, Hashable {
    /// The cohorts touched. Each is charged the full cost (parallel composition applies across
    /// cohorts, not within one release's cohort).
    public var scopes: [PrivacyScope]
    /// The privacy cost, as proved by the mechanism(s).
    public var cost: PrivacyCost
    /// What the spend is for, e.g. `"release 2025Q2 quarterly tables"`.
    public var purpose: String
    /// Who asked (a steward's name or token name).
    public var requester: String

    /// A spend request.
    public init(scopes: [PrivacyScope], cost: PrivacyCost, purpose: String, requester: String) {
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
    public var scopes: [PrivacyScope]
    /// The cost as requested (exact).
    public var cost: PrivacyCost
    /// What each scope was charged, in ρ ledger units (= the cost's ρ, rounded up if inexact).
    public var charged: RhoUnits
    /// The stated purpose.
    public var purpose: String
    /// Who asked.
    public var requester: String
}

/// The state of one scope's budget.
public struct ScopeBalance: Sendable, Hashable, Codable {
    /// The cohort.
    public var scope: PrivacyScope
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

/// A change of a budget (a scope's, or the default when `scope` is nil).
public struct BudgetChange: Sendable, Hashable, Codable {
    /// Sequence number.
    public var id: Int64
    /// The scope, or nil for the default budget.
    public var scope: PrivacyScope?
    /// The new budget in ledger units (rounded down if the requested ρ was inexact).
    public var budget: RhoUnits
    /// The ρ as the steward gave it.
    public var requested: Rational
    /// When.
    public var changedAt: Date
    /// By whom.
    public var changedBy: String
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

/// Why a scope refused a spend.
public struct ScopeShortfall: Sendable, Hashable, CustomStringConvertible {
    /// The scope.
    public var scope: PrivacyScope
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

/// Ledger failures. A refused spend changes nothing.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Some scopes lack the budget; the spend was refused whole.
    case budgetExceeded([ScopeShortfall])
    /// A scope name is not `YYYYQn`.
    case invalidScope(String)
    /// A spend named no scope.
    case noScopes
    /// A cost or budget was invalid (non-positive cost, negative budget, overflow).
    case invalidAmount(PrivacyError)
    /// A required text field (purpose, requester, steward) was empty.
    case missingField(String)
    /// A database failure.
    case database(String)
    /// A budget larger than the ledger can represent (``BudgetLedger/largestBudget``).
    case budgetTooLarge(String)
    /// A raise of an existing budget, or a budget above ``BudgetLedger/confirmationThreshold``,
    /// without the explicit confirmation.
    case confirmationRequired(String)

    /// A human-readable form.
    public var description: String {
        switch self {
        case let .budgetExceeded(s): "privacy budget exceeded, spend refused: " + s.map(\.description).joined(separator: "; ")
        case let .invalidScope(s): "invalid privacy scope \"\(s)\" (expected a report quarter such as 2024Q1)"
        case .noScopes: "a spend must name at least one scope"
        case let .invalidAmount(e): "invalid privacy amount: \(e)"
        case let .missingField(f): "\(f) must not be empty"
        case let .database(why): "ledger database error: \(why)"
        case let .budgetTooLarge(why): why
        case let .confirmationRequired(why): why
        }
    }
}

/// The persistent privacy-budget ledger (zCDP, per cohort scope).
///
/// Accounting rule (Bun & Steinke 2016, Lemma 1.7 — zCDP composes additively): a scope's guarantee
/// is ρ-zCDP with ρ the sum of the costs of all spends that named it, and a spend is admitted only
/// if, for every scope it names, spent + cost ≤ budget. Pure-DP costs are charged as ε²/2.
///
/// Exactness: amounts are integers in ``RhoUnits`` (charges rounded up, budgets down); SQLite sums
/// integers exactly.
///
/// Atomicity and concurrency: a spend is one `BEGIN IMMEDIATE` transaction that reads the totals
/// and inserts the rows, so concurrent spends (threads, or processes sharing the file) are
/// serialised and each sees the ones before it; a refusal writes nothing. Spend and budget rows
/// are append-only (triggers refuse UPDATE and DELETE).
///
/// Budgets: each scope has the budget last set for it, else the default budget last set by the
/// steward, else zero (fail closed: nothing can be spent before a steward sets a budget).
public struct BudgetLedger: Sendable {
    /// The database.
    public let database: AppDatabase
    let clock: @Sendable () -> Date

    /// A ledger on `database`; `clock` stamps rows (injectable for tests).
    public init(database: AppDatabase, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.clock = clock
    }

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

    // MARK: Budgets

    /// Sets `scope`'s budget to ρ (rounded down to ledger units). Recorded in the change history,
    /// **without a reason and without the guard rails**: for tests, benchmarks and tools. Stewards
    /// change budgets through ``changeBudget(_:scope:by:reason:confirmRaise:)`` (`plazo ledger
    /// set-budget --reason`), which requires a reason and confirms raises.
    public func setBudget(_ rho: Rational, for scope: PrivacyScope, by steward: String) throws(LedgerError) {
        try recordBudget(rho, scope: scope, by: steward)
    }

    /// Sets the default budget, which applies to every scope without an explicit budget (no reason,
    /// no guard rails: see ``setBudget(_:for:by:)``).
    public func setDefaultBudget(_ rho: Rational, by steward: String) throws(LedgerError) {
        try recordBudget(rho, scope: nil, by: steward)
    }

    private func recordBudget(_ rho: Rational, scope: PrivacyScope?, by steward: String) throws(LedgerError) {
        if steward.trimmingCharacters(in: .whitespaces).isEmpty { throw .missingField("steward") }
        let units: RhoUnits
        do { units = try RhoUnits.budget(rho) } catch { throw .invalidAmount(error) }
        let now = clock()
        try perform { db in
            try db.execute(
                sql: "INSERT INTO privacy_budget_change (scope, rho_units, rho_requested, changed_at, changed_by) VALUES (?, ?, ?, ?, ?)",
                arguments: [scope?.rawValue, units.units, rho.description, now, steward])
        }
    }

    /// The default budget (zero if never set).
    public func defaultBudget() throws(LedgerError) -> RhoUnits {
        try read { db in try Self.defaultBudget(db) }
    }

    /// Every budget change, oldest first.
    public func budgetChanges() throws(LedgerError) -> [BudgetChange] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM privacy_budget_change ORDER BY id").map { row in
                BudgetChange(
                    id: row["id"],
                    scope: try (row["scope"] as String?).map { s throws(LedgerError) in try PrivacyScope(s) },
                    budget: RhoUnits(units: row["rho_units"]),
                    requested: try Self.rational(row["rho_requested"]),
                    changedAt: row["changed_at"],
                    changedBy: row["changed_by"])
            }
        }
    }

    // MARK: Spending

    /// Records `request` if every scope it names has room for its cost; otherwise throws
    /// ``LedgerError/budgetExceeded(_:)`` and records nothing. Atomic across threads and processes.
    @discardableResult
    public func spend(_ request: SpendRequest) throws(LedgerError) -> LedgerEntry {
        let now = clock()
        return try perform { db in try Self.spend(request, in: db, at: now) }
    }

    /// The scopes that could not afford `request` now (empty if it would be admitted), without
    /// writing anything. Advisory only: a concurrent spend may change the answer, so ``spend(_:)``
    /// checks again atomically.
    public func shortfalls(for request: SpendRequest) throws(LedgerError) -> [ScopeShortfall] {
        try read { db in
            let charged: RhoUnits
            do { charged = try RhoUnits.charging(request.cost.rho()) } catch let e as PrivacyError { throw LedgerError.invalidAmount(e) }
            return try Self.shortfalls(Array(Set(request.scopes)).sorted(), charged: charged, in: db)
        }
    }

    static func shortfalls(_ scopes: [PrivacyScope], charged: RhoUnits, in db: Database) throws -> [ScopeShortfall] {
        var shortfalls: [ScopeShortfall] = []
        let fallback = try defaultBudget(db)
        for scope in scopes {
            let budget = try explicitBudget(db, scope) ?? fallback
            let spent = try spentUnits(db, scope)
            let (total, overflow) = spent.units.addingReportingOverflow(charged.units)
            if overflow || total > budget.units {
                shortfalls.append(ScopeShortfall(scope: scope, budget: budget, spent: spent, requested: charged))
            }
        }
        return shortfalls
    }

    /// The same, inside a write transaction the caller already holds (so that a release can be
    /// stored and its budget debited in one commit: if the caller rolls back, so does the spend).
    /// The caller's transaction should be `IMMEDIATE` if other processes may write the same file.
    public static func spend(_ request: SpendRequest, in db: Database, at date: Date) throws -> LedgerEntry {
        let scopes = Array(Set(request.scopes)).sorted()
        if scopes.isEmpty { throw LedgerError.noScopes }
        let purpose = request.purpose.trimmingCharacters(in: .whitespacesAndNewlines)
        let requester = request.requester.trimmingCharacters(in: .whitespacesAndNewlines)
        if purpose.isEmpty { throw LedgerError.missingField("purpose") }
        if requester.isEmpty { throw LedgerError.missingField("requester") }
        let charged: RhoUnits
        do {
            let rho = try request.cost.rho()
            guard rho.isPositive else { throw LedgerError.invalidAmount(.parameterOutOfRange(what: "cost", reason: "must be > 0")) }
            charged = try RhoUnits.charging(rho)
        } catch let error as PrivacyError { throw LedgerError.invalidAmount(error) }

        let shortfalls = try Self.shortfalls(scopes, charged: charged, in: db)
        if !shortfalls.isEmpty { throw LedgerError.budgetExceeded(shortfalls) }

        let (kind, value) = costColumns(request.cost)
        try db.execute(
            sql: "INSERT INTO privacy_spend (spent_at, purpose, requester, cost_kind, cost_value, rho_units) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [date, purpose, requester, kind, value, charged.units])
        let id = db.lastInsertedRowID
        for scope in scopes {
            try db.execute(sql: "INSERT INTO privacy_spend_scope (spend_id, scope) VALUES (?, ?)", arguments: [id, scope.rawValue])
        }
        // Read the timestamp back so the returned entry equals what `entries()` lists (SQLite keeps
        // milliseconds).
        let stored = try Date.fetchOne(db, sql: "SELECT spent_at FROM privacy_spend WHERE id = ?", arguments: [id]) ?? date
        return LedgerEntry(id: id, spentAt: stored, scopes: scopes, cost: request.cost, charged: charged,
                           purpose: purpose, requester: requester)
    }

    // MARK: Listing and audit

    /// All spends, oldest first; only those naming `scope` if given.
    public func entries(scope: PrivacyScope? = nil) throws(LedgerError) -> [LedgerEntry] {
        try read { db in
            let rows: [Row]
            if let scope {
                rows = try Row.fetchAll(db, sql: """
                    SELECT s.* FROM privacy_spend s WHERE s.id IN (SELECT spend_id FROM privacy_spend_scope WHERE scope = ?)
                    ORDER BY s.id
                    """, arguments: [scope.rawValue])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM privacy_spend ORDER BY id")
            }
            var scopesBySpend: [Int64: [PrivacyScope]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT spend_id, scope FROM privacy_spend_scope ORDER BY spend_id, scope") {
                scopesBySpend[row["spend_id"], default: []].append(try PrivacyScope(row["scope"]))
            }
            return try rows.map { row in
                let id: Int64 = row["id"]
                return LedgerEntry(
                    id: id, spentAt: row["spent_at"], scopes: scopesBySpend[id] ?? [],
                    cost: try Self.cost(kind: row["cost_kind"], value: row["cost_value"]),
                    charged: RhoUnits(units: row["rho_units"]), purpose: row["purpose"], requester: row["requester"])
            }
        }
    }

    /// The balance of one scope.
    public func balance(for scope: PrivacyScope) throws(LedgerError) -> ScopeBalance {
        try read { db in try Self.balance(db, scope) }
    }

    /// Balances of every scope that has an explicit budget or a spend, sorted by scope.
    public func balances() throws(LedgerError) -> [ScopeBalance] {
        try read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT scope FROM privacy_budget_change WHERE scope IS NOT NULL
                UNION SELECT scope FROM privacy_spend_scope ORDER BY 1
                """)
            return try names.map { name in try Self.balance(db, PrivacyScope(name)) }
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
        var fromEntries: [PrivacyScope: Int64] = [:]
        for e in list { for s in e.scopes { fromEntries[s, default: 0] += e.charged.units } }
        for b in sums where (fromEntries[b.scope] ?? 0) != b.spent.units {
            problems.append("\(b.scope): spent total mismatch")
        }
        return LedgerAudit(balances: sums, spendCount: list.count, problems: problems)
    }

    // MARK: Internals

    static func defaultBudget(_ db: Database) throws -> RhoUnits {
        RhoUnits(units: try Int64.fetchOne(db, sql: """
            SELECT rho_units FROM privacy_budget_change WHERE scope IS NULL ORDER BY id DESC LIMIT 1
            """) ?? 0)
    }

    static func explicitBudget(_ db: Database, _ scope: PrivacyScope) throws -> RhoUnits? {
        try Int64.fetchOne(db, sql: "SELECT rho_units FROM privacy_budget_change WHERE scope = ? ORDER BY id DESC LIMIT 1",
                           arguments: [scope.rawValue]).map(RhoUnits.init(units:))
    }

    static func spentUnits(_ db: Database, _ scope: PrivacyScope) throws -> RhoUnits {
        // Integer SUM in SQLite is exact (it raises "integer overflow" rather than rounding).
        RhoUnits(units: try Int64.fetchOne(db, sql: """
            SELECT COALESCE(SUM(s.rho_units), 0) FROM privacy_spend s
            JOIN privacy_spend_scope ss ON ss.spend_id = s.id WHERE ss.scope = ?
            """, arguments: [scope.rawValue]) ?? 0)
    }

    static func balance(_ db: Database, _ scope: PrivacyScope) throws -> ScopeBalance {
        let explicit = try explicitBudget(db, scope)
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM privacy_spend_scope WHERE scope = ?", arguments: [scope.rawValue]) ?? 0
        return ScopeBalance(scope: scope, budget: try explicit ?? defaultBudget(db), budgetIsDefault: explicit == nil,
                            spent: try spentUnits(db, scope), spendCount: count)
    }

    static func costColumns(_ cost: PrivacyCost) -> (String, String) {
        switch cost {
        case let .zCDP(rho): ("zcdp", rho.description)
        case let .pureDP(epsilon): ("pure_dp", epsilon.description)
        }
    }

    static func cost(kind: String, value: String) throws -> PrivacyCost {
        let r = try rational(value)
        switch kind {
        case "zcdp": return .zCDP(rho: r)
        case "pure_dp": return .pureDP(epsilon: r)
        default: throw LedgerError.database("unknown cost kind \(kind)")
        }
    }

    static func rational(_ text: String) throws -> Rational {
        do { return try Rational(parsing: text) } catch { throw LedgerError.database("stored amount \(text): \(error)") }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (takes SQLite's write lock before reading, so a
    /// check-then-insert cannot interleave with another process's), mapping errors to ``LedgerError``.
    private func perform<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
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

    private func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do { return try database.reader.read(body) } catch let error as LedgerError { throw error } catch {
            throw .database(String(describing: error))
        }
    }
}
