import Foundation
import PlazoPrivacy
import PlazoStore

/// The persistent privacy-budget ledger (zCDP, per cohort scope): the ledger's rules
/// (``LedgerRules``) applied to its rows (``PlazoStore/LedgerRows``), each check and its writes in
/// one transaction.
///
/// Accounting rule (Bun & Steinke 2016, Lemma 1.7 — zCDP composes additively): a scope's guarantee
/// is ρ-zCDP with ρ the sum of the costs of all spends that named it, and a spend is admitted only
/// if, for every scope it names, spent + cost ≤ budget. Pure-DP costs are charged as ε²/2.
///
/// Exactness: amounts are integers in ``RhoUnits`` (charges rounded up, budgets down); both
/// engines sum integers exactly.
///
/// Atomicity and concurrency: a spend is one write transaction that holds the store's writer from
/// its first read (SQLite `BEGIN IMMEDIATE`; PostgreSQL the writer advisory lock, see
/// ``PostgresEngine``), reads the totals and inserts the rows, so concurrent spends (threads,
/// processes sharing the file, replicas sharing the database) are serialised and each sees the
/// ones before it; a refusal writes nothing. Spend and budget rows
/// are append-only (triggers refuse UPDATE and DELETE).
///
/// Budgets: each scope has the budget last set for it, else the default budget last set by the
/// steward, else zero (fail closed: nothing can be spent before a steward sets a budget).
///
/// The ledger is split by concern: this file holds the type and its transactions; `+Budgets`
/// budgets and their history, `+Spend` spending, `+Balance` listing, balances and the audit;
/// `LedgerRules.swift` the rules as pure functions; `LedgerError.swift` its errors and scope
/// parsing. Its tables and SQL are the store's (`LedgerRows`, `LedgerRows+Schema.swift`).
public struct BudgetLedger: Sendable {
    /// The database.
    public let database: AppDatabase
    let clock: @Sendable () -> Date

    /// A ledger on `database`; `clock` stamps rows (injectable for tests).
    public init(database: AppDatabase, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.clock = clock
    }

    // MARK: Transactions

    /// Runs `body` in a write transaction that holds the writer before reading (a check-then-insert
    /// cannot interleave with another process's or replica's), mapping errors to ``LedgerError``.
    func perform<T>(_ body: (any SQLConnection) async throws -> T) async throws(LedgerError) -> T {
        do { return try await database.write(body) } catch let error as LedgerError { throw error } catch {
            throw .database(String(describing: error))
        }
    }

    func read<T>(_ body: (any SQLConnection) async throws -> T) async throws(LedgerError) -> T {
        do { return try await database.read(body) } catch let error as LedgerError { throw error } catch {
            throw .database(String(describing: error))
        }
    }

    static func rational(_ text: String) throws -> Rational {
        do { return try Rational(parsing: text) } catch { throw LedgerError.database("stored amount \(text): \(error)") }
    }
}
