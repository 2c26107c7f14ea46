import Foundation
import PlazoStore
import Testing

/// The ledger's rows as the store keeps them: plain values in, the same values out, no rule
/// applied (the rules are `PlazoLedger`'s and tested there).
@Suite("Ledger rows")
struct LedgerRowsTests {
    @Test("spends and budget changes are written and read back as plain values, on the caller's connection")
    func roundTrip() async throws {
        let database = try await AppDatabase.forTesting()
        let at = Date(timeIntervalSince1970: 1_750_000_000)
        let (first, second, change) = try await database.write { db in
            let rows = LedgerRows(db)
            let change = try await rows.insertBudgetChange(scope: "2024Q1", units: 1_000, requested: "1/72072000000", at: at, by: "ana")
            try await rows.insertBudgetReason(changeID: change.id, LedgerBudgetReasonRow(reason: "plan", previousUnits: nil, flags: ""))
            _ = try await rows.insertBudgetChange(scope: nil, units: 500, requested: "1/144144000000", at: at, by: "ana")
            let first = try await rows.insertSpend(
                at: at, purpose: "release A", requester: "ben", costKind: "zcdp", costValue: "1/4", units: 300, scopes: ["2024Q1", "2024Q2"])
            let second = try await rows.insertSpend(
                at: at, purpose: "release B", requester: "ben", costKind: "pure_dp", costValue: "1/2", units: 200, scopes: ["2024Q2"])
            return (first, second, change)
        }
        #expect(first.spentAt == at && change.changedAt == at)
        try await database.read { db in
            let rows = LedgerRows(db)
            #expect(try await rows.scope("2024Q1") == LedgerScopeRows(explicitUnits: 1_000, defaultUnits: 500, spentUnits: 300, spendCount: 1))
            #expect(try await rows.scope("2024Q2") == LedgerScopeRows(explicitUnits: nil, defaultUnits: 500, spentUnits: 500, spendCount: 2))
            #expect(try await rows.scope("2024Q3") == LedgerScopeRows(explicitUnits: nil, defaultUnits: 500, spentUnits: 0, spendCount: 0))
            #expect(try await rows.scopeNames() == ["2024Q1", "2024Q2"])
            #expect(try await rows.spends().map(\.id) == [first.id, second.id])
            #expect(try await rows.spends(scope: "2024Q1").map(\.scopes) == [["2024Q1", "2024Q2"]])
            let b = try #require(try await rows.spends(scope: "2024Q2").last)
            #expect(b.costKind == "pure_dp" && b.costValue == "1/2" && b.units == 200 && b.purpose == "release B" && b.requester == "ben")
            let changes = try await rows.budgetChanges()
            #expect(changes.map(\.scope) == ["2024Q1", nil])
            #expect(changes.map(\.reason) == [LedgerBudgetReasonRow(reason: "plan", previousUnits: nil, flags: ""), nil])
        }
    }

    @Test("a store with no ledger rows has no budget and nothing spent")
    func empty() async throws {
        let database = try await AppDatabase.forTesting()
        let (fallback, scope) = try await database.read { db in await (try LedgerRows(db).defaultUnits(), try LedgerRows(db).scope("2024Q1")) }
        #expect(fallback == nil)
        #expect(scope == LedgerScopeRows(explicitUnits: nil, defaultUnits: nil, spentUnits: 0, spendCount: 0))
    }

    @Test("rows inserted in a transaction that rolls back are gone")
    func rollback() async throws {
        let database = try await AppDatabase.forTesting()
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await database.write { db in
                _ = try await LedgerRows(db).insertSpend(
                    at: Date(), purpose: "p", requester: "r", costKind: "zcdp", costValue: "1", units: 1, scopes: ["2024Q1"])
                throw Abort()
            }
        }
        #expect(try await database.read { db in try await LedgerRows(db).spends() }.isEmpty)
    }
}
