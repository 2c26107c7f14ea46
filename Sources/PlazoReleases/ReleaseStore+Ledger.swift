import Foundation
import PlazoLedger
import PlazoModel
import PlazoStore

/// A release's budget debit and its rows, in **one transaction**: the ledger's rules and rows
/// (`PlazoLedger`) debit its spends, then the store (`PlazoStore`) inserts the release, so a
/// release exists if and only if its budget was debited. If a scope lacks budget the ledger throws
/// ``LedgerError/budgetExceeded(_:)`` and the transaction rolls back: nothing is written. The store
/// knows nothing of budgets; this module, which depends on both, runs the transaction.
extension ReleaseStore {
    /// Debits `spend` and stores the release in one write transaction (a release that pins
    /// nothing: the projection path). If any scope lacks budget, throws
    /// ``LedgerError/budgetExceeded(_:)`` and writes nothing. `document` receives the new release
    /// id and spend before it is serialised, so the stored bytes can name them.
    public func create(
        spend: SpendRequest, title: String, cutoff: String, cohorts: [String], totalRho: String,
        codeVersion: String, at date: Date, document: (_ id: Int64, _ entry: LedgerEntry) throws -> [UInt8]
    ) async throws -> ReleaseRow {
        try await database.write { db in
            try await Self.debitAndInsert(
                in: db, spends: [spend], title: title, cutoff: cutoff, cohorts: cohorts, totalRho: totalRho,
                codeVersion: codeVersion, pinning: nil, at: date, document: document)
        }
    }

    /// Debits `spends` and inserts the release's rows on `db`, inside the caller's transaction.
    /// `spends[0]` is the release's own spend (its `spend_id`); the others (a continual release's
    /// cohorts at other steps of their streams, charged other amounts) are debited before it, each
    /// refused like it, so that one refusal rolls back all of them.
    static func debitAndInsert(
        in db: any SQLConnection, spends: [SpendRequest], title: String, cutoff: String, cohorts: [String], totalRho: String,
        codeVersion: String, pinning: ReleasePinning?, at date: Date,
        document: (_ id: Int64, _ entry: LedgerEntry) throws -> [UInt8]
    ) async throws -> ReleaseRow {
        for extra in spends.dropFirst() { _ = try await BudgetLedger.spend(extra, in: db, at: date) }
        let entry = try await BudgetLedger.spend(spends[0], in: db, at: date)
        return try await ReleaseStore.insert(
            in: db, spendID: entry.id, requester: spends[0].requester, title: title, cutoff: cutoff, cohorts: cohorts,
            totalRho: totalRho, codeVersion: codeVersion, pinning: pinning, at: date, document: { id in try document(id, entry) })
    }
}

/// The ledger on the writer the release path holds (``ReleaseStore/withWriter(_:)``).
extension HeldWriter {
    /// A cohort's budget, spend and remaining budget now.
    public func balance(_ scope: Quarter) async throws -> ScopeBalance { try await BudgetLedger.balance(in: db, scope) }

    /// Debits `spend` and stores the release with its batch watermark in one `BEGIN IMMEDIATE`
    /// transaction on this connection (the release path holds the writer from projection to
    /// pinning). If any scope lacks budget, throws ``LedgerError/budgetExceeded(_:)`` and writes
    /// nothing. The release's first status (published, by the requester) is recorded in the same
    /// transaction; `draftID` links it to the draft it publishes.
    ///
    /// A continual release charges its cohorts different amounts (each is at its own step of its
    /// stream): `extraSpends` are debited in the same transaction (each refused like `spend`), and
    /// `continualSteps` (the encoded values it drew) are stored with it.
    public func createRelease(
        spend: SpendRequest, extraSpends: [SpendRequest] = [], continualSteps: [ContinualStepRow] = [], title: String, cutoff: String,
        cohorts: [String], totalRho: String, codeVersion: String, batchWatermark: Int64, draftID: Int64?, at date: Date,
        document: (_ id: Int64, _ entry: LedgerEntry) throws -> [UInt8]
    ) async throws -> ReleaseRow {
        try await db.transaction {
            try await ReleaseStore.debitAndInsert(
                in: db, spends: [spend] + extraSpends, title: title, cutoff: cutoff, cohorts: cohorts, totalRho: totalRho,
                codeVersion: codeVersion,
                pinning: ReleasePinning(batchWatermark: batchWatermark, draftID: draftID, continualSteps: continualSteps),
                at: date, document: document)
        }
    }
}
